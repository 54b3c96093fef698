// The persisted snapshot: trusted only when it reads back; otherwise rebuilt from the world, never replayed.
import { describe, expect, it } from 'vitest';
import { deriveState } from '../../../src/lifecycle/derive.js';
import { LIFECYCLE_SCHEMA_VERSION } from '../../../src/lifecycle/machine.js';
import { persist, rebuild, restore, step } from '../../../src/lifecycle/snapshot.js';
import { LIFECYCLE_STATES, type LifecycleState } from '../../../src/lifecycle/states.js';
import { FAILURE, W } from './worlds.js';

const v = LIFECYCLE_SCHEMA_VERSION;
const stateOf = (persisted: unknown, world = W.ready) => persist(restore(persisted, world)).state;

describe('restore', () => {
  it('uses a readable snapshot of this version as it is, even when the world has moved on', () => {
    expect(stateOf({ schemaVersion: v, state: 'upgrading.controlPlane', context: {} })).toBe(
      'upgrading.controlPlane',
    );
    expect(stateOf({ schemaVersion: v, state: 'scaling' })).toBe('scaling');
  });

  it('rebuilds from the world when there is no snapshot', () => {
    expect(stateOf(undefined, W.controlPlaneUpgrade)).toBe('upgrading.controlPlane');
    expect(stateOf(undefined, W.nothing)).toBe('pending');
    expect(stateOf(null, W.workersGone)).toBe('deleting.controlPlane');
  });

  it('rebuilds a failed snapshot with the failure the world reports', () => {
    expect(persist(restore(undefined, W.failed))).toEqual({
      schemaVersion: v,
      state: 'failed',
      context: { failure: FAILURE },
    });
  });

  it.each([
    ['older', v - 1],
    ['newer', v + 1],
    ['missing', undefined],
    ['a string', String(v)],
  ])('rebuilds from the world when the schema version is %s', (_, schemaVersion) => {
    expect(stateOf({ schemaVersion, state: 'upgrading.controlPlane', context: {} })).toBe('ready');
  });

  it.each([
    ['not an object', 'upgrading.controlPlane'],
    ['an array', []],
    ['a state that is not a string', { schemaVersion: v, state: 3 }],
    ['an unknown state', { schemaVersion: v, state: 'provisioning' }],
    ['a compound state, not a leaf', { schemaVersion: v, state: 'upgrading' }],
    ['the choice, which never rests', { schemaVersion: v, state: 'rederive' }],
    ['a context that is not an object', { schemaVersion: v, state: 'scaling', context: 'x' }],
    ['an unknown context key', { schemaVersion: v, state: 'scaling', context: { retries: 3 } }],
    [
      'a failure of the wrong shape',
      { schemaVersion: v, state: 'failed', context: { failure: { reason: 1 } } },
    ],
    [
      'a pausedFrom that is not a state',
      { schemaVersion: v, state: 'paused', context: { pausedFrom: 'nowhere' } },
    ],
    ['a pausedFrom of paused', { schemaVersion: v, state: 'paused', context: { pausedFrom: 'paused' } }],
  ])('rebuilds from the world when the snapshot is unreadable: %s', (_, persisted) => {
    expect(stateOf(persisted, W.workersBooting)).toBe('provisioningWorkers');
  });

  it('trusts the final state only while the world agrees with it', () => {
    expect(stateOf({ schemaVersion: v, state: 'deleted' }, W.finalizerRemoved)).toBe('deleted');
    expect(stateOf({ schemaVersion: v, state: 'deleted' }, W.ready)).toBe('ready');
  });

  it('rebuilds exactly what deriveState picks, for every named world', () => {
    for (const world of Object.values(W)) expect(persist(rebuild(world)).state).toBe(deriveState(world));
  });
});

describe('persist', () => {
  it.each(LIFECYCLE_STATES)('round-trips %s', (state: LifecycleState) => {
    const context =
      state === 'failed'
        ? { failure: FAILURE }
        : state === 'paused'
          ? { pausedFrom: 'upgrading.workers' }
          : {};
    const persisted = { schemaVersion: v, state, context };
    const world = state === 'deleted' ? W.finalizerRemoved : W.ready;
    const out = persist(restore(persisted, world));
    expect(out).toEqual(persisted);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });
});

describe('step', () => {
  it('reports no change when the world agrees with the snapshot', () => {
    const result = step({ schemaVersion: v, state: 'ready', context: {} }, W.ready);
    expect(result).toMatchObject({ state: 'ready', phase: 'Ready', changed: false });
    expect(result.tasks).toContain('ensureWorkers');
  });

  it('reports a change when the snapshot was rebuilt, even to the same state', () => {
    expect(step(undefined, W.ready).changed).toBe(true);
    expect(step({ schemaVersion: v - 1, state: 'ready' }, W.ready).changed).toBe(true);
  });

  it('reports a change when only the context changed', () => {
    const persisted = {
      schemaVersion: v,
      state: 'failed',
      context: { failure: { ...FAILURE, message: 'before' } },
    };
    const result = step(persisted, W.failed);
    expect(result).toMatchObject({ state: 'failed', phase: 'Failed', tasks: [], changed: true });
    expect(result.persisted.context).toEqual({ failure: FAILURE });
  });

  it('treats a missing context as an empty one', () => {
    expect(step({ schemaVersion: v, state: 'ready' }, W.ready).changed).toBe(false);
  });

  it('moves and says what to do', () => {
    const result = step({ schemaVersion: v, state: 'ready', context: {} }, W.controlPlaneUpgrade);
    expect(result.state).toBe('upgrading.controlPlane');
    expect(result.phase).toBe('Upgrading');
    expect(result.tasks).toContain('upgradeControlPlane');
    expect(result.persisted).toEqual({ schemaVersion: v, state: 'upgrading.controlPlane', context: {} });
    expect(result.snapshot.matches({ upgrading: 'controlPlane' })).toBe(true);
  });
});
