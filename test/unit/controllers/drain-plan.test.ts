import { describe, expect, it } from 'vitest';
import type { Cluster, Machine } from '../../../src/api/v1alpha1/index.js';
import { machine as machineSchema, nodeDrainTimeout } from '../../../src/api/v1alpha1/index.js';
import {
  budgetsOf,
  drainFinished,
  drainingCondition,
  drainSkipReason,
  drainTimedOut,
  type PodLike,
  parseDuration,
  podAction,
  selectorMatches,
} from '../../../src/controllers/machine/drain-plan.js';

const pod = (over: Partial<PodLike['metadata']> = {}, phase = 'Running'): PodLike => ({
  metadata: { name: 'p', namespace: 'default', labels: { app: 'hello' }, ...over },
  status: { phase },
});

describe('podAction', () => {
  it('evicts pods of Deployments, bare pods and finished pods', () => {
    const rs = { kind: 'ReplicaSet', name: 'hello-1', controller: true };
    expect(podAction(pod({ ownerReferences: [rs] }), false)).toBe('evict');
    expect(podAction(pod(), false)).toBe('evict');
    expect(podAction(pod({}, 'Succeeded'), false)).toBe('evict');
  });

  it('leaves DaemonSet pods and mirror pods', () => {
    const ds = { kind: 'DaemonSet', name: 'proxy', controller: true };
    expect(podAction(pod({ ownerReferences: [ds] }), false)).toBe('skip');
    // A DaemonSet that is an owner but not the controller does not make the pod its own.
    expect(podAction(pod({ ownerReferences: [{ ...ds, controller: false }] }), false)).toBe('evict');
    expect(podAction(pod({ annotations: { 'kubernetes.io/config.mirror': 'abc' } }), false)).toBe('skip');
  });

  it('waits for terminating pods, unless the Node is unreachable', () => {
    const terminating = pod({ deletionTimestamp: '2026-01-01T00:00:00Z' });
    expect(podAction(terminating, false)).toBe('wait');
    expect(podAction(terminating, true)).toBe('skip');
    expect(podAction(pod(), true)).toBe('evict');
  });
});

describe('PodDisruptionBudgets of a pod', () => {
  it('match label selectors as the API does', () => {
    const labels = { app: 'hello', tier: 'web' };
    expect(selectorMatches(undefined, labels)).toBe(false);
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'hello' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'other' } }, labels)).toBe(false);
    const e = (operator: string, values?: string[]) => ({
      matchExpressions: [{ key: 'tier', operator, ...(values ? { values } : {}) }],
    });
    expect(selectorMatches(e('In', ['web', 'db']), labels)).toBe(true);
    expect(selectorMatches(e('In', ['db']), labels)).toBe(false);
    expect(selectorMatches(e('NotIn', ['web']), labels)).toBe(false);
    expect(selectorMatches(e('NotIn', ['db']), labels)).toBe(true);
    expect(selectorMatches(e('Exists'), labels)).toBe(true);
    expect(selectorMatches(e('DoesNotExist'), labels)).toBe(false);
    expect(selectorMatches(e('DoesNotExist'), { app: 'hello' })).toBe(true);
  });

  it('are the ones of its namespace whose selector matches it', () => {
    const b = (namespace: string, name: string, app: string) => ({
      metadata: { namespace, name },
      spec: { selector: { matchLabels: { app } } },
    });
    const budgets = [b('default', 'hello', 'hello'), b('other', 'hello', 'hello'), b('default', 'db', 'db')];
    expect(budgetsOf(pod(), budgets)).toEqual(['default/hello']);
    expect(budgetsOf(pod({ labels: {} }), budgets)).toEqual([]);
  });
});

describe('parseDuration', () => {
  it('reads Go durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('0s')).toBe(0);
  });

  it('refuses what is not one', () => {
    for (const bad of ['', '5', 'm', '5 m', '5d', '-5m', '5m ', 'x5m'])
      expect(parseDuration(bad)).toBeUndefined();
  });

  it('agrees with the API schema', () => {
    for (const text of ['90s', '1h30m', '1.5h', '5', '5d', '-5m']) {
      expect(nodeDrainTimeout.safeParse(text).success).toBe(parseDuration(text) !== undefined);
    }
  });
});

const machine = (over: { annotations?: Record<string, string>; node?: string; timeout?: string } = {}) =>
  machineSchema.parse({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: 'm', namespace: 'ns', ...(over.annotations ? { annotations: over.annotations } : {}) },
    spec: {
      clusterName: 'c',
      role: 'Worker',
      version: 'v1.37.2',
      machineTemplateRef: { name: 't' },
      ...(over.timeout ? { nodeDrainTimeout: over.timeout } : {}),
    },
    status: over.node ? { nodeRef: { name: over.node } } : {},
  }) as Machine;

const cluster = (deleting = false) =>
  ({
    metadata: { name: 'c', ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  }) as Cluster;

describe('drainSkipReason', () => {
  it('drains a Machine with a Node of a live cluster', () => {
    expect(drainSkipReason(machine({ node: 'n' }), cluster(), true)).toBeUndefined();
  });

  it('skips on the annotation, a cluster being deleted, no Node, no workload API', () => {
    const annotated = machine({ node: 'n', annotations: { 'clusterforge.dev/exclude-node-draining': '' } });
    expect(drainSkipReason(annotated, cluster(), true)).toContain('exclude-node-draining');
    expect(drainSkipReason(machine({ node: 'n' }), cluster(true), true)).toBe('the cluster is being deleted');
    expect(drainSkipReason(machine(), cluster(), true)).toBe('the machine has no Node');
    expect(drainSkipReason(machine({ node: 'n' }), cluster(), false)).toContain('serve no API');
  });
});

describe('the drain timeout', () => {
  const draining = (m: Machine, since: string, reason = 'Draining'): Machine => ({
    ...m,
    status: {
      ...m.status,
      conditions: [
        { type: 'DrainingSucceeded', status: 'False', reason, message: '', lastTransitionTime: since },
      ],
    },
  });
  const now = new Date('2026-01-01T00:10:00Z');

  it('passes nodeDrainTimeout after the drain began', () => {
    const m = draining(machine({ node: 'n', timeout: '5m' }), '2026-01-01T00:04:00Z');
    expect(drainTimedOut(m, now)).toBe(true);
    expect(drainTimedOut(m, new Date('2026-01-01T00:08:59Z'))).toBe(false);
  });

  it('never passes when unset, nor before the drain began', () => {
    expect(drainTimedOut(draining(machine({ node: 'n' }), '2020-01-01T00:00:00Z'), now)).toBe(false);
    expect(drainTimedOut(machine({ node: 'n', timeout: '1s' }), now)).toBe(false);
  });

  it('ends the drain once given up or succeeded, not while it goes on', () => {
    const m = machine({ node: 'n' });
    expect(drainFinished(m)).toBe(false);
    expect(drainFinished(draining(m, '2026-01-01T00:00:00Z'))).toBe(false);
    expect(drainFinished(draining(m, '2026-01-01T00:00:00Z', 'DrainTimedOut'))).toBe(true);
  });
});

describe('the DrainingSucceeded condition', () => {
  it('names the blocking PodDisruptionBudget and the pods still there', () => {
    const c = drainingCondition({
      node: 'w1',
      waiting: ['default/a'],
      blocked: [{ pod: 'default/b', budgets: ['default/hello'], message: 'Cannot evict pod.' }],
    });
    expect(c).toMatchObject({ type: 'DrainingSucceeded', status: 'False', reason: 'EvictionBlocked' });
    expect(c.message).toBe(
      'draining Node w1: eviction of default/b blocked by PodDisruptionBudget default/hello: Cannot evict pod.; waiting for default/a to terminate',
    );
  });

  it('says Draining while pods terminate, and cuts a long list short', () => {
    const waiting = Array.from({ length: 12 }, (_, i) => `default/p${i}`);
    const c = drainingCondition({ node: 'w1', waiting, blocked: [] });
    expect(c.reason).toBe('Draining');
    expect(c.message).toContain('default/p9 and 2 more to terminate');
    expect(c.message).not.toContain('default/p10');
  });
});
