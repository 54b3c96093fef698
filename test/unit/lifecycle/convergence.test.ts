// Properties over every combination of the facts the machine reads: from any persisted state, a stable world
// brings the machine to deriveState(world) and keeps it there; and the tasks never break the order rules.
// Every guard is built on deriveState, so the machine tells worlds apart only by the state deriveState picks:
// all worlds go through the cheap checks, and a spread of worlds per derived state through every start.
import { describe, expect, it } from 'vitest';
import { deriveState } from '../../../src/lifecycle/derive.js';
import type { Observation } from '../../../src/lifecycle/observation.js';
import { type PersistedLifecycle, step } from '../../../src/lifecycle/snapshot.js';
import { LIFECYCLE_STATES } from '../../../src/lifecycle/states.js';
import type { Task } from '../../../src/lifecycle/tasks.js';
import { FAILURE, NEW, OLD, world } from './worlds.js';

/** Every combination of the observed facts that matters to the machine. */
function everyWorld(): Observation[] {
  const out: Observation[] = [];
  const bools = [false, true];
  const failures = [undefined, FAILURE, { ...FAILURE, generation: 2 }];
  for (const paused of bools)
    for (const failure of failures) {
      for (const infrastructureReady of bools)
        for (const controlPlaneInitialized of bools)
          for (const controlPlaneReady of bools)
            for (const workersReady of bools)
              for (const workersAtDesiredVersion of bools)
                for (const replicasMatch of bools)
                  for (const controlPlaneVersion of [undefined, OLD, NEW])
                    for (const created of bools) {
                      out.push(
                        world({
                          paused,
                          failure,
                          infrastructureReady,
                          controlPlaneInitialized,
                          controlPlaneReady,
                          workersReady,
                          workersAtDesiredVersion,
                          replicasMatch,
                          controlPlaneVersion,
                          childrenGone: {
                            workers: !created,
                            controlPlane: !created,
                            infrastructure: !created,
                          },
                        }),
                      );
                    }
      for (const workers of bools)
        for (const controlPlane of bools)
          for (const infrastructure of bools)
            for (const finalizerRemoved of [undefined, false, true])
              out.push(
                world({
                  paused,
                  failure,
                  deleting: true,
                  finalizerRemoved,
                  childrenGone: { workers, controlPlane, infrastructure },
                }),
              );
    }
  return out;
}

/** Every persisted state, with the contexts it can carry. */
const starts: PersistedLifecycle[] = LIFECYCLE_STATES.flatMap((state) => {
  const plain = { schemaVersion: 1, state, context: {} };
  if (state === 'failed') return [plain, { ...plain, context: { failure: FAILURE } }];
  if (state === 'paused') return [plain, { ...plain, context: { pausedFrom: 'upgrading.controlPlane' } }];
  return [plain];
});

const worlds = everyWorld();

/** Up to `perState` worlds for each state deriveState picks, spread over the whole list. */
function spread(all: Observation[], perState: number): Observation[] {
  const byState = new Map<string, Observation[]>();
  for (const w of all) byState.set(deriveState(w), [...(byState.get(deriveState(w)) ?? []), w]);
  return [...byState.values()].flatMap((group) => {
    const stride = Math.max(1, Math.floor(group.length / perState));
    return group.filter((_, i) => i % stride === 0).slice(0, perState);
  });
}

const sample = spread(worlds, 8);

describe('convergence on a stable world', () => {
  it('every state deriveState can pick is in the sample', () => {
    const picked = new Set(sample.map(deriveState));
    expect(LIFECYCLE_STATES.filter((s) => !picked.has(s))).toEqual([]);
  });

  it(`reaches deriveState(world) in one step from every state (${starts.length} starts x ${sample.length} worlds)`, () => {
    let checked = 0;
    for (const w of sample) {
      const expected = deriveState(w);
      for (const start of starts) {
        const first = step(start, w);
        if (first.state !== expected) {
          expect.fail(
            `${start.state} ${JSON.stringify(start.context)} on ${JSON.stringify(w)} went to ${first.state}, not ${expected}`,
          );
        }
        const second = step(first.persisted, w);
        if (second.changed)
          expect.fail(`${expected} did not stay put on ${JSON.stringify(w)}: ${second.state}`);
        checked++;
      }
    }
    expect(checked).toBe(starts.length * sample.length);
  });

  it(`a snapshot rebuilt from the world stays put on that world (${worlds.length} worlds)`, () => {
    for (const w of worlds) {
      const rebuilt = step(undefined, w);
      expect(rebuilt.state).toBe(deriveState(w));
      expect(step(rebuilt.persisted, w).changed).toBe(false);
    }
  });
});

const isDeletion = (task: Task) => task.startsWith('delete') || task === 'removeFinalizer';

/** Each world from a rebuilt snapshot, and each sampled world from every start. */
function* stepsToCheck() {
  for (const w of worlds) yield { w, result: step(undefined, w) };
  for (const w of sample) for (const start of starts) yield { w, result: step(start, w) };
}

describe('the tasks keep the order rules', () => {
  it('deletes workers, then the control plane, then the infrastructure, then the finalizer', () => {
    for (const { w, result } of stepsToCheck()) {
      const { tasks } = result;
      const deleting = w.deleting && !w.paused;
      if (tasks.some(isDeletion)) expect(deleting).toBe(true);
      if (deleting) expect(tasks.every(isDeletion)).toBe(true);
      if (tasks.includes('deleteControlPlane')) expect(w.childrenGone.workers).toBe(true);
      if (tasks.includes('deleteInfrastructure'))
        expect(w.childrenGone.workers && w.childrenGone.controlPlane).toBe(true);
      if (tasks.includes('removeFinalizer')) expect(Object.values(w.childrenGone).every(Boolean)).toBe(true);
    }
  });

  it('upgrades the control plane before the workers', () => {
    for (const { w, result } of stepsToCheck()) {
      if (result.tasks.includes('upgradeWorkers')) expect(w.controlPlaneVersion).toBe(w.desiredVersion);
      if (result.tasks.includes('upgradeControlPlane'))
        expect(w.controlPlaneVersion).not.toBe(w.desiredVersion);
    }
  });

  it('does nothing while paused', () => {
    for (const { w, result } of stepsToCheck()) {
      if (w.paused) expect(result).toMatchObject({ state: 'paused', tasks: [] });
    }
  });
});
