// The machine, the vocabulary, the tasks and the docs agree with each other.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GUARD_FOR } from '../../../src/lifecycle/derive.js';
import { LIFECYCLE_DOC, renderLifecycleDoc } from '../../../src/lifecycle/generate-diagram.js';
import { machineTransitions, restingStates } from '../../../src/lifecycle/introspect.js';
import { clusterLifecycle, LIFECYCLE_SCHEMA_VERSION } from '../../../src/lifecycle/machine.js';
import { LIFECYCLE_STATES } from '../../../src/lifecycle/states.js';
import { phaseFor, TASKS, tasksFor } from '../../../src/lifecycle/tasks.js';

describe('the lifecycle definition', () => {
  it('lists exactly the states the machine can rest in', () => {
    expect(restingStates().map((s) => s.path)).toEqual([...LIFECYCLE_STATES]);
  });

  it('has one guard per state deriveState can pick, all implemented', () => {
    const implemented = Object.keys(clusterLifecycle.implementations.guards);
    expect(Object.keys(GUARD_FOR).sort()).toEqual([...LIFECYCLE_STATES].sort());
    for (const guard of Object.values(GUARD_FOR)) expect(implemented).toContain(guard);
    expect(new Set(Object.values(GUARD_FOR)).size).toBe(LIFECYCLE_STATES.length);
  });

  it('is pure: no invoke, no delayed transitions, one event', () => {
    const config = JSON.stringify(clusterLifecycle.config);
    expect(config).not.toContain('"invoke"');
    expect(config).not.toContain('"after"');
    expect(new Set(machineTransitions().map((t) => t.event))).toEqual(new Set(['OBSERVE', 'always']));
  });

  it('has a positive integer schema version', () => {
    expect(Number.isInteger(LIFECYCLE_SCHEMA_VERSION) && LIFECYCLE_SCHEMA_VERSION >= 1).toBe(true);
  });
});

describe('tasks and phases', () => {
  it('gives every state a phase and known tasks', () => {
    for (const state of LIFECYCLE_STATES) {
      expect(phaseFor(state)).toMatch(
        /^(Pending|Provisioning|Ready|Upgrading|Scaling|Deleting|Failed|Paused)$/,
      );
      for (const task of tasksFor(state)) expect(TASKS).toContain(task);
    }
  });

  it('uses every task somewhere', () => {
    const used = new Set(LIFECYCLE_STATES.flatMap((s) => tasksFor(s)));
    expect(TASKS.filter((t) => !used.has(t))).toEqual([]);
  });

  it('throws on a state the machine does not have', () => {
    expect(() => tasksFor('provisioning')).toThrow(/unknown lifecycle state/);
    expect(() => phaseFor('upgrading')).toThrow(/unknown lifecycle state/);
  });

  it('returns a copy the caller may change', () => {
    tasksFor('ready').push('removeFinalizer');
    expect(tasksFor('ready')).not.toContain('removeFinalizer');
  });
});

describe('docs/lifecycle.md', () => {
  it('is generated from the current machine (npx tsx src/lifecycle/generate-diagram.ts)', () => {
    expect(readFileSync(LIFECYCLE_DOC, 'utf8')).toBe(renderLifecycleDoc());
  });

  it('draws every state and every guard', () => {
    const doc = renderLifecycleDoc();
    const diagram = doc.slice(doc.indexOf('```mermaid'), doc.indexOf('```', doc.indexOf('```mermaid') + 3));
    for (const state of LIFECYCLE_STATES) expect(diagram).toContain(`as ${state.replaceAll('.', '_')}`);
    for (const t of machineTransitions()) expect(diagram).toContain(`: ${t.guard}`);
  });
});
