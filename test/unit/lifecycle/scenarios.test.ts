// A cluster's life as the reconciler sees it: a sequence of observations, one step each.
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../../src/lifecycle/observation.js';
import { type StepResult, step } from '../../../src/lifecycle/snapshot.js';
import { FAILURE, NEW, OLD, W, world } from './worlds.js';

/** Steps through the worlds from no snapshot at all, keeping what the reconciler would persist. */
function live(worlds: Observation[], persisted?: unknown): StepResult[] {
  const out: StepResult[] = [];
  let current = persisted;
  for (const w of worlds) {
    const result = step(current, w);
    out.push(result);
    current = result.persisted;
  }
  return out;
}

const ready = (state = 'ready') => ({ schemaVersion: 1, state, context: {} });

describe('provisioning', () => {
  it('goes pending, infrastructure, control plane, workers, ready', () => {
    const path = live([
      W.nothing,
      W.infrastructureProvisioning,
      W.controlPlaneProvisioning,
      W.firstWorkersCreated,
      W.workersBooting,
      W.ready,
      W.ready,
    ]);
    expect(path.map((r) => r.state)).toEqual([
      'pending',
      'provisioningInfrastructure',
      'provisioningControlPlane',
      'scaling',
      'provisioningWorkers',
      'ready',
      'ready',
    ]);
    expect(path.map((r) => r.phase)).toEqual([
      'Pending',
      'Provisioning',
      'Provisioning',
      'Scaling',
      'Provisioning',
      'Ready',
      'Ready',
    ]);
    expect(path.at(-1)?.changed).toBe(false);
  });

  it('keeps repairing drift in ready', () => {
    expect(step(ready(), W.ready).tasks).toEqual([
      'ensureInfrastructure',
      'ensureCertificates',
      'ensureControlPlane',
      'publishKubeconfig',
      'ensureWorkers',
    ]);
  });
});

describe('upgrade order', () => {
  it('upgrades the control plane, then the workers, then is ready', () => {
    const bumped = { desiredVersion: NEW };
    const path = live(
      [
        world({ ...bumped, controlPlaneVersion: OLD, workersAtDesiredVersion: false }),
        // The control plane's rollout surges a machine: replica counts differ, still upgrading.
        world({ ...bumped, controlPlaneVersion: OLD, workersAtDesiredVersion: false, replicasMatch: false }),
        world({ ...bumped, controlPlaneVersion: NEW, workersAtDesiredVersion: false }),
        world({ ...bumped, controlPlaneVersion: NEW, workersAtDesiredVersion: false, workersReady: false }),
        world({ ...bumped, controlPlaneVersion: NEW }),
      ],
      ready(),
    );
    expect(path.map((r) => r.state)).toEqual([
      'upgrading.controlPlane',
      'upgrading.controlPlane',
      'upgrading.workers',
      'upgrading.workers',
      'ready',
    ]);
    const upgraded = path.map((r) => r.tasks.filter((t) => t.startsWith('upgrade')));
    expect(upgraded).toEqual([
      ['upgradeControlPlane'],
      ['upgradeControlPlane'],
      ['upgradeWorkers'],
      ['upgradeWorkers'],
      [],
    ]);
  });

  it('never upgrades workers while the control plane runs an older version, even when only they lag', () => {
    const result = step(ready(), world({ controlPlaneVersion: OLD, workersAtDesiredVersion: false }));
    expect(result.state).toBe('upgrading.controlPlane');
    expect(result.tasks).not.toContain('upgradeWorkers');
  });
});

describe('delete order', () => {
  it('deletes workers, then control plane, then infrastructure, then removes the finalizer', () => {
    const path = live(
      [W.deleting, W.workersGone, W.controlPlaneGone, W.allGone, W.finalizerRemoved],
      ready(),
    );
    expect(path.map((r) => [r.state, r.tasks])).toEqual([
      ['deleting.workers', ['deleteWorkers']],
      ['deleting.controlPlane', ['deleteControlPlane']],
      ['deleting.infrastructure', ['deleteInfrastructure']],
      ['deleting.finalizer', ['removeFinalizer']],
      ['deleted', []],
    ]);
    expect(path.every((r) => r.phase === 'Deleting')).toBe(true);
  });

  it('deletes a failed cluster', () => {
    const failed = live([W.failed, W.deletingAndFailed]);
    expect(failed.map((r) => r.state)).toEqual(['failed', 'deleting.workers']);
  });
});

describe('failed', () => {
  it('stops on a failure of the current generation and keeps it in the context', () => {
    const result = step(ready('provisioningWorkers'), W.failed);
    expect(result).toMatchObject({ state: 'failed', phase: 'Failed', tasks: [] });
    expect(result.persisted.context).toEqual({ failure: FAILURE });
    expect(step(result.persisted, W.failed).changed).toBe(false);
  });

  it('leaves on a spec change, to where the world says', () => {
    const failed = step(ready(), W.failed).persisted;
    const after = step(failed, world({ generation: 4, failure: FAILURE, replicasMatch: false }));
    expect(after.state).toBe('scaling');
    expect(after.persisted.context).toEqual({});
  });

  it('stays failed when the new generation fails too, with the new failure', () => {
    const failed = step(ready(), W.failed).persisted;
    const again = { ...FAILURE, message: 'still no capacity', generation: 4 };
    const after = step(failed, world({ generation: 4, failure: again }));
    expect(after.state).toBe('failed');
    expect(after.persisted.context).toEqual({ failure: again });
  });

  it('leaves when a later observation no longer reports the failure (a retry after back-off)', () => {
    const failed = step(ready(), W.failed).persisted;
    expect(step(failed, W.ready).state).toBe('ready');
  });
});

describe('paused', () => {
  it('round-trips: remembers where it was and returns there', () => {
    const [paused, unpaused] = live(
      [W.paused, world({ controlPlaneVersion: OLD })],
      ready('upgrading.controlPlane'),
    );
    expect(paused).toMatchObject({ state: 'paused', phase: 'Paused', tasks: [] });
    expect(paused?.persisted.context).toEqual({ pausedFrom: 'upgrading.controlPlane' });
    expect(unpaused?.state).toBe('upgrading.controlPlane');
    expect(unpaused?.persisted.context).toEqual({});
  });

  it('returns to the state re-derived from the world when the world moved while paused', () => {
    const path = live(
      [W.paused, world({ paused: true, workersAtDesiredVersion: false }), W.workersUpgrade],
      ready(),
    );
    expect(path.map((r) => r.state)).toEqual(['paused', 'paused', 'upgrading.workers']);
  });

  it('is not deleted while paused (Cluster API), and deletes once unpaused', () => {
    const path = live([W.pausedWhileDeleting, W.pausedWhileDeleting, W.deleting], ready());
    expect(path.map((r) => [r.state, r.tasks])).toEqual([
      ['paused', []],
      ['paused', []],
      ['deleting.workers', ['deleteWorkers']],
    ]);
  });

  it('keeps the failure out of the way while paused and finds it again after', () => {
    const path = live([W.failed, world({ paused: true, failure: FAILURE }), W.failed]);
    expect(path.map((r) => r.state)).toEqual(['failed', 'paused', 'failed']);
    expect(path[1]?.persisted.context).toEqual({ pausedFrom: 'failed' });
    expect(path[2]?.persisted.context).toEqual({ failure: FAILURE });
  });
});
