// Who is unhealthy: the provider's failure, a Node not Ready past unhealthyNodeTimeout, no Node past
// nodeStartupTimeout; an unreachable workload API judges no Node.
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/api/v1alpha1/index.js';
import { judgeMachine, type NodeFacts, policyOf } from '../../../src/controllers/health/verdict.js';

const NOW = new Date('2026-12-03T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000).toISOString();
const policy = policyOf({ unhealthyNodeTimeout: '30s', nodeStartupTimeout: '2m', maxUnhealthy: 1 });

const machine = (over: { created?: string; nodeRef?: string; providerID?: string; failure?: string } = {}) =>
  ({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'w-1', creationTimestamp: over.created ?? ago(600) },
    spec: {
      clusterName: 'c',
      role: 'Worker',
      version: 'v1.37.2',
      machineTemplateRef: { name: 't' },
      ...(over.providerID ? { providerID: over.providerID } : {}),
    },
    status: {
      ...(over.nodeRef ? { nodeRef: { name: over.nodeRef } } : {}),
      ...(over.failure ? { failureReason: over.failure, failureMessage: `${over.failure}!` } : {}),
    },
  }) as Machine;

const node = (status: string, sinceS: number, over: Partial<NodeFacts> = {}): NodeFacts => ({
  name: 'w-1',
  ready: { status, since: ago(sinceS), message: 'Kubelet stopped posting node status.' },
  ...over,
});

describe('judgeMachine', () => {
  it('a Ready Node is healthy', () => {
    expect(judgeMachine(machine({ nodeRef: 'w-1' }), [node('True', 900)], policy, NOW)).toEqual({
      healthy: true,
    });
  });

  it('a Node Ready=Unknown or False is healthy until unhealthyNodeTimeout, then NodeNotReady', () => {
    expect(judgeMachine(machine({ nodeRef: 'w-1' }), [node('Unknown', 10)], policy, NOW)).toEqual({
      healthy: true,
      recheckAfterMs: 20_000,
    });
    const v = judgeMachine(machine({ nodeRef: 'w-1' }), [node('False', 45)], policy, NOW);
    expect(v).toMatchObject({ healthy: false, reason: 'NodeNotReady' });
    expect(v.healthy === false && v.message).toBe(
      'Node w-1 has been Ready=False for 45s (unhealthyNodeTimeout 30s): Kubelet stopped posting node status.',
    );
  });

  it('finds the Node by providerID when the machine has no nodeRef yet', () => {
    const n = node('Unknown', 60, { name: 'ip-10-0-0-1', providerID: 'aws:///z/i-1' });
    expect(judgeMachine(machine({ providerID: 'aws:///z/i-1' }), [n], policy, NOW)).toMatchObject({
      healthy: false,
      reason: 'NodeNotReady',
    });
  });

  it('no Node: healthy until nodeStartupTimeout after creation, then NodeStartupTimeout', () => {
    expect(judgeMachine(machine({ created: ago(30) }), [], policy, NOW)).toEqual({
      healthy: true,
      recheckAfterMs: 90_000,
    });
    expect(judgeMachine(machine({ created: ago(150) }), [], policy, NOW)).toMatchObject({
      healthy: false,
      reason: 'NodeStartupTimeout',
      message: 'no Node after 150s (nodeStartupTimeout 2m)',
    });
  });

  it('startup counts from when Nodes could first register, if that is later than the machine', () => {
    const m = machine({ created: ago(600) });
    expect(judgeMachine(m, [], policy, NOW, ago(60))).toEqual({ healthy: true, recheckAfterMs: 60_000 });
    expect(judgeMachine(m, [], policy, NOW, ago(900))).toMatchObject({ healthy: false });
  });

  it('a Node the machine had and that is gone is NodeNotFound at once', () => {
    expect(judgeMachine(machine({ nodeRef: 'w-1', created: ago(5) }), [], policy, NOW)).toMatchObject({
      healthy: false,
      reason: 'NodeNotFound',
    });
  });

  it("the provider's failure makes it unhealthy, whatever the Nodes say", () => {
    expect(
      judgeMachine(
        machine({ nodeRef: 'w-1', failure: 'InstanceTerminated' }),
        [node('True', 1)],
        policy,
        NOW,
      ),
    ).toEqual({ healthy: false, reason: 'InstanceTerminated', message: 'InstanceTerminated!' });
  });

  it('an unreachable workload API (no Node list) judges no Node: only a failure counts', () => {
    expect(judgeMachine(machine({ created: ago(9999) }), undefined, policy, NOW)).toEqual({ healthy: true });
    expect(judgeMachine(machine({ failure: 'InstanceTerminated' }), undefined, policy, NOW)).toMatchObject({
      healthy: false,
    });
  });
});
