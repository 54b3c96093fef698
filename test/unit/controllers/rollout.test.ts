import { describe, expect, it } from 'vitest';
import { type MachineView, planRollout, type RolloutInput } from '../../../src/controllers/common/rollout.js';

let clock = 0;
const m = (name: string, over: Partial<MachineView> = {}): MachineView => ({
  name,
  version: 'v1.37.2',
  template: 't1',
  ready: true,
  deleting: false,
  created: new Date(1_700_000_000_000 + clock++ * 1000).toISOString(),
  ...over,
});
const old = (name: string, over: Partial<MachineView> = {}) => m(name, { version: 'v1.36.3', ...over });

const cp = (machines: MachineView[], replicas = 3): RolloutInput => ({
  replicas,
  version: 'v1.37.2',
  template: 't1',
  machines,
  maxSurge: 1,
  maxUnavailable: 0,
  oneAtATime: true,
});
const pool = (machines: MachineView[], replicas: number, over: Partial<RolloutInput> = {}): RolloutInput => ({
  ...cp(machines, replicas),
  oneAtATime: false,
  ...over,
});

describe('control plane (one at a time)', () => {
  it('creates the first machine, then one more only when all are ready', () => {
    expect(planRollout(cp([], 3))).toMatchObject({ create: 1, delete: [] });
    expect(planRollout(cp([m('a', { ready: false })], 3))).toMatchObject({
      create: 0,
      waiting: 'waiting for a to be ready',
    });
    expect(planRollout(cp([m('a')], 3))).toMatchObject({ create: 1 });
  });

  it('scales down one machine at a time, oldest first, waiting for the deletion', () => {
    const [a, b, c] = [m('a'), m('b'), m('c')];
    expect(planRollout(cp([a, b, c], 1))).toMatchObject({ create: 0, delete: ['a'] });
    expect(planRollout(cp([{ ...a, deleting: true }, b, c], 1))).toMatchObject({ create: 0, delete: [] });
  });

  it('upgrades by surging one new machine, then removing one old one', () => {
    const olds = [old('a'), old('b'), old('c')];
    expect(planRollout(cp(olds))).toMatchObject({ create: 1, delete: [], outdated: 3 });
    expect(planRollout(cp([...olds, m('d')]))).toMatchObject({ create: 0, delete: ['a'] });
    expect(planRollout(cp([old('b'), old('c'), m('d')]))).toMatchObject({ create: 1, delete: [] });
  });

  it('treats a changed template like a changed version', () => {
    expect(planRollout(cp([m('a', { template: 't0' })], 1))).toMatchObject({ create: 1, outdated: 1 });
  });

  it('with maxSurge 0, removes an old machine before adding a new one', () => {
    expect(planRollout({ ...cp([old('a'), old('b'), old('c')]), maxSurge: 0 })).toMatchObject({
      create: 0,
      delete: ['a'],
    });
  });

  it('replaces an outdated machine that never became ready instead of waiting for it', () => {
    expect(planRollout(cp([m('a', { version: 'v1.37.0', ready: false })], 1))).toMatchObject({
      create: 0,
      delete: ['a'],
    });
  });

  it('rests when the machines match', () => {
    expect(planRollout(cp([m('a'), m('b'), m('c')]))).toEqual({
      create: 0,
      delete: [],
      waiting: '',
      upToDate: 3,
      outdated: 0,
    });
  });
});

describe('worker pool', () => {
  it('scales up all at once and down by removing not-ready, then oldest machines', () => {
    expect(planRollout(pool([m('a')], 4))).toMatchObject({ create: 3 });
    const machines = [m('a'), m('b', { ready: false }), m('c'), m('d')];
    expect(planRollout(pool(machines, 1))).toMatchObject({ create: 0, delete: ['b', 'a', 'c'] });
  });

  it('rolls with maxSurge 1 and maxUnavailable 0: never fewer ready machines than replicas', () => {
    let machines = [old('a'), old('b')];
    expect(planRollout(pool(machines, 2))).toMatchObject({ create: 1, delete: [] });
    machines = [...machines, m('c', { ready: false })];
    expect(planRollout(pool(machines, 2))).toMatchObject({
      create: 0,
      delete: [],
      waiting: 'waiting for new machines to be ready',
    });
    machines = [old('a'), old('b'), m('c')];
    expect(planRollout(pool(machines, 2))).toMatchObject({ create: 0, delete: ['a'] });
    expect(planRollout(pool([old('b'), m('c')], 2))).toMatchObject({ create: 1, delete: [] });
  });

  it('rolls with maxUnavailable 1 and maxSurge 0 by removing first', () => {
    expect(planRollout(pool([old('a'), old('b')], 2, { maxSurge: 0, maxUnavailable: 1 }))).toMatchObject({
      create: 0,
      delete: ['a'],
    });
  });

  it('removes outdated machines that are not ready at once', () => {
    expect(planRollout(pool([old('a', { ready: false }), old('b')], 2))).toMatchObject({
      create: 1,
      delete: ['a'],
    });
  });
});
