// What the Cluster reconciler tells on a phase change (Event, log line and its level), and the command it
// gives to unpause a cluster whose deletion waits.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Cluster, ClusterPhase } from '../../../src/api/v1alpha1/index.js';
import { reportPhaseChange } from '../../../src/controllers/cluster/phase-change.js';
import { unpauseCommand } from '../../../src/controllers/common/paused.js';
import type { ControllerDeps } from '../../../src/controllers/deps.js';
import { createLogger } from '../../../src/runtime/log.js';

interface Told {
  events: { type: string; reason: string; note: string }[];
  lines: { level: string; msg: string; [k: string]: unknown }[];
}

function tell(
  stored: { phase?: ClusterPhase; state?: string },
  after: { phase: ClusterPhase; state: string },
  failure?: { reason: string; message: string },
): Told {
  const told: Told = { events: [], lines: [] };
  const deps = {
    events: {
      normal: (_: unknown, reason: string, note: string) =>
        told.events.push({ type: 'Normal', reason, note }),
      warning: (_: unknown, reason: string, note: string) =>
        told.events.push({ type: 'Warning', reason, note }),
    },
  } as unknown as ControllerDeps;
  const destination = new Writable({
    write(chunk, _, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) told.lines.push(JSON.parse(line));
      done();
    },
  });
  const cluster = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c', namespace: 'ns' },
    status: {
      ...(stored.phase ? { phase: stored.phase } : {}),
      ...(stored.state ? { lifecycle: { schemaVersion: 1, state: stored.state, context: {} } } : {}),
    },
  } as unknown as Cluster;
  reportPhaseChange(deps, cluster, after, failure, createLogger({ level: 'debug', destination }));
  return told;
}

describe('reportPhaseChange', () => {
  it('tells a phase change against the stored phase: a Normal Event and an info line', () => {
    const told = tell({ phase: 'Ready', state: 'ready' }, { phase: 'Scaling', state: 'scaling' });
    expect(told.events).toEqual([
      { type: 'Normal', reason: 'PhaseChanged', note: 'phase Ready (ready) -> Scaling (scaling)' },
    ]);
    expect(told.lines).toMatchObject([{ level: 'info', msg: 'phase changed', from: 'Ready', to: 'Scaling' }]);
  });

  it('tells Failed as a Warning and at warn, with the reason', () => {
    const told = tell(
      { phase: 'Provisioning', state: 'provisioningInfrastructure' },
      { phase: 'Failed', state: 'failed' },
      { reason: 'InsufficientCapacity', message: 'no m5.large left' },
    );
    expect(told.events).toEqual([
      {
        type: 'Warning',
        reason: 'PhaseChanged',
        note: 'phase Provisioning (provisioningInfrastructure) -> Failed (failed): InsufficientCapacity: no m5.large left',
      },
    ]);
    expect(told.lines).toMatchObject([
      { level: 'warn', msg: 'phase changed', reason: 'InsufficientCapacity' },
    ]);
  });

  it('tells a step within a phase as a Lifecycle Event, and nothing when nothing changed', () => {
    const step = tell(
      { phase: 'Upgrading', state: 'upgrading.controlPlane' },
      { phase: 'Upgrading', state: 'upgrading.workers' },
    );
    expect(step.events).toEqual([
      { type: 'Normal', reason: 'Lifecycle', note: 'upgrading.controlPlane -> upgrading.workers' },
    ]);
    expect(step.lines).toMatchObject([{ level: 'info', msg: 'lifecycle transition' }]);
    const same = tell({ phase: 'Ready', state: 'ready' }, { phase: 'Ready', state: 'ready' });
    expect(same).toEqual({ events: [], lines: [] });
  });

  it('tells the first phase of a new cluster', () => {
    const told = tell({}, { phase: 'Provisioning', state: 'provisioningInfrastructure' });
    expect(told.events.map((e) => e.note)).toEqual([
      'phase none -> Provisioning (provisioningInfrastructure)',
    ]);
  });
});

describe('unpauseCommand', () => {
  const meta = { name: 'c', namespace: 'team-a' };
  it('removes the annotation when the annotation pauses', () => {
    expect(
      unpauseCommand({
        kind: 'Cluster',
        metadata: { ...meta, annotations: { 'clusterforge.dev/paused': 'true' } },
        spec: { paused: false },
      }),
    ).toBe('kubectl annotate -n team-a cluster.clusterforge.dev/c clusterforge.dev/paused-');
  });

  it('sets spec.paused to false when the spec pauses, and says both when both do', () => {
    expect(unpauseCommand({ kind: 'Cluster', metadata: meta, spec: { paused: true } })).toBe(
      `kubectl patch -n team-a cluster.clusterforge.dev/c --type=merge -p '{"spec":{"paused":false}}'`,
    );
    expect(
      unpauseCommand({
        kind: 'Cluster',
        metadata: { ...meta, annotations: { 'clusterforge.dev/paused': '' } },
        spec: { paused: true },
      }),
    ).toContain(' && kubectl patch ');
  });
});
