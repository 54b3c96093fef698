// How many unhealthy machines may be replaced: at most maxUnhealthy, none while more are unhealthy;
// a control plane one at a time and only while the etcd members left keep quorum.
import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  planRemediation,
  quorumOf,
} from '../../../src/controllers/health/remediation-plan.js';

let clock = 0;
const m = (name: string, over: Partial<Candidate> = {}): Candidate => ({
  name,
  deleting: false,
  remediating: false,
  ready: true,
  created: new Date(1_700_000_000_000 + clock++ * 1000).toISOString(),
  ...over,
});
const sick = (name: string, over: Partial<Candidate> = {}) =>
  m(name, { unhealthy: { reason: 'NodeNotReady', message: 'x' }, ready: false, ...over });

describe('planRemediation for a worker pool', () => {
  it('nothing unhealthy: nothing to do, nothing held', () => {
    expect(planRemediation({ machines: [m('a'), m('b')], maxUnhealthy: 1, controlPlane: false })).toEqual({
      remediate: [],
      unhealthy: 0,
    });
  });

  it('replaces the unhealthy machines while they are no more than maxUnhealthy', () => {
    const plan = planRemediation({
      machines: [sick('a'), m('b'), sick('c'), m('d')],
      maxUnhealthy: 2,
      controlPlane: false,
    });
    expect(plan).toEqual({ remediate: ['a', 'c'], unhealthy: 2 });
  });

  it('3 of 4 unhealthy with maxUnhealthy 1: none is replaced, and the reason says why', () => {
    const plan = planRemediation({
      machines: [sick('a'), sick('b'), sick('c'), m('d')],
      maxUnhealthy: 1,
      controlPlane: false,
    });
    expect(plan.remediate).toEqual([]);
    expect(plan.held?.reason).toBe('TooManyUnhealthy');
    expect(plan.held?.message).toContain('3 of 4 machines are unhealthy, more than maxUnhealthy (1)');
  });

  it('a replacement still being deleted counts against maxUnhealthy', () => {
    const plan = planRemediation({
      machines: [m('a', { deleting: true, remediating: true }), sick('b'), m('c')],
      maxUnhealthy: 1,
      controlPlane: false,
    });
    expect(plan).toMatchObject({ remediate: [], unhealthy: 2, held: { reason: 'TooManyUnhealthy' } });
    // A machine deleted for another reason (scale down) does not.
    expect(
      planRemediation({
        machines: [m('a', { deleting: true }), sick('b'), m('c')],
        maxUnhealthy: 1,
        controlPlane: false,
      }).remediate,
    ).toEqual(['b']);
  });

  it('maxUnhealthy 0 replaces nothing', () => {
    expect(
      planRemediation({ machines: [sick('a'), m('b')], maxUnhealthy: 0, controlPlane: false }).remediate,
    ).toEqual([]);
  });
});

describe('planRemediation for a control plane', () => {
  it('quorum: 2 of 3 members, 3 of 5 members', () => {
    expect([1, 2, 3, 4, 5].map(quorumOf)).toEqual([1, 2, 2, 3, 3]);
  });

  it('one unhealthy of 3: replaced, the two left are a quorum', () => {
    expect(
      planRemediation({ machines: [m('a'), sick('b'), m('c')], maxUnhealthy: 1, controlPlane: true }),
    ).toEqual({
      remediate: ['b'],
      unhealthy: 1,
    });
  });

  it('one at a time: two unhealthy of 5 with maxUnhealthy 2 replaces the oldest only', () => {
    const plan = planRemediation({
      machines: [m('a'), sick('b'), m('c'), sick('d'), m('e')],
      maxUnhealthy: 2,
      controlPlane: true,
    });
    expect(plan.remediate).toEqual(['b']);
    expect(plan.held?.reason).toBe('OneAtATime');
  });

  it('waits while any control-plane machine is being deleted', () => {
    const plan = planRemediation({
      machines: [m('a', { deleting: true }), sick('b'), m('c'), m('d')],
      maxUnhealthy: 1,
      controlPlane: true,
    });
    expect(plan).toMatchObject({ remediate: [], held: { reason: 'OneAtATime' } });
  });

  it('never when the members left would lose quorum', () => {
    // 3 members: b unhealthy, c not ready; removing b leaves a and c, one healthy of two.
    const plan = planRemediation({
      machines: [m('a'), sick('b'), m('c', { ready: false })],
      maxUnhealthy: 1,
      controlPlane: true,
    });
    expect(plan.remediate).toEqual([]);
    expect(plan.held).toEqual({
      reason: 'EtcdQuorum',
      message: 'removing b would leave 1 healthy etcd member(s) of 2, fewer than the 2 a quorum needs',
    });
  });

  it('never the only control-plane machine', () => {
    expect(planRemediation({ machines: [sick('a')], maxUnhealthy: 1, controlPlane: true }).held?.reason).toBe(
      'LastControlPlaneMachine',
    );
  });
});
