// Whether a member may leave: a majority of the voting members that remain must be healthy.
import { describe, expect, it } from 'vitest';
import { nodeNameOf, peerHost } from '../../../providers/aws-ec2/etcd/access.js';
import type { Machine } from '../../../src/api/v1alpha1/index.js';
import { type EtcdMember, quorumAfterRemoval } from '../../../src/etcd/gateway.js';

const voter = (id: string): EtcdMember => ({ ID: id, name: `m${id}` });
const five = ['1', '2', '3', '4', '5'].map(voter);

describe('quorumAfterRemoval', () => {
  it('allows the removal while a majority of the remaining voters is healthy', () => {
    const leaving = five[0] as EtcdMember;
    expect(quorumAfterRemoval(five, leaving, (m) => ['2', '3', '4'].includes(m.ID))).toMatchObject({
      ok: true,
      healthy: 3,
      remaining: 4,
      quorum: 3,
    });
  });

  it('refuses it when the remaining healthy voters are no majority', () => {
    const leaving = five[0] as EtcdMember;
    expect(quorumAfterRemoval(five, leaving, (m) => ['2', '3'].includes(m.ID))).toMatchObject({
      ok: false,
      healthy: 2,
      quorum: 3,
    });
  });

  it('always lets a learner go, and the last voter', () => {
    const learner = { ID: '9', isLearner: true };
    expect(quorumAfterRemoval([...five, learner], learner, () => false).ok).toBe(true);
    expect(quorumAfterRemoval([voter('1')], voter('1'), () => false).ok).toBe(true);
  });

  it('does not count learners among the voters that keep the quorum', () => {
    const members = [voter('1'), voter('2'), voter('3'), { ID: '4', isLearner: true }];
    expect(quorumAfterRemoval(members, voter('1'), (m) => m.ID === '4' || m.ID === '2')).toMatchObject({
      ok: false,
      healthy: 1,
      remaining: 2,
      quorum: 2,
    });
  });
});

describe('aws-ec2 member ownership', () => {
  it("a machine's node is its nodeRef, else its Hostname address (the instance's private DNS name)", () => {
    const m = {
      status: {
        addresses: [
          { type: 'InternalIP', address: '10.0.0.5' },
          { type: 'Hostname', address: 'ip-10-0-0-5.ec2.internal' },
        ],
      },
    } as unknown as Machine;
    expect(nodeNameOf(m)).toBe('ip-10-0-0-5.ec2.internal');
    expect(nodeNameOf({ status: { nodeRef: { name: 'n1' } } } as unknown as Machine)).toBe('n1');
  });

  it("a member's address is its first peer URL's host", () => {
    expect(peerHost(['https://10.0.0.5:2380'])).toBe('10.0.0.5');
    expect(peerHost(['https://[fd00::5]:2380'])).toBe('fd00::5');
    expect(peerHost([])).toBeUndefined();
  });
});
