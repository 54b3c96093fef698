// Two managers on one Lease against the shared API server: only the leader reconciles; a graceful stop
// hands over at once; a leader that stops renewing without releasing is replaced after the lease expires;
// a leader that finds another holder in the lease stops leading.
import { CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { microTime } from '../../../src/runtime/leader-election.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';

const LEASE = 'test-controller-manager';
const LEASE_SECONDS = 5;
const WAIT = { timeout: 30_000, interval: 50 };

describe('Leader election', () => {
  const namespace = useTestNamespace('rt-leader', { scope: 'each' });
  const managers: Manager[] = [];
  /** Reconciles, by identity of the manager that ran them. */
  const reconciled = new Map<string, string[]>();
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
    reconciled.clear();
  });

  const readLease = (): Promise<V1Lease> =>
    testKubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: LEASE, namespace: namespace() });
  const createConfigMap = (name: string) =>
    testKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: namespace(), body: { metadata: { name } } });

  async function startCandidate(identity: string): Promise<Manager> {
    const manager = new Manager({
      kubeConfig: testKubeConfig(),
      address: '127.0.0.1:0',
      metrics: new RuntimeMetrics({ processMetrics: false }),
      leaderElection: {
        namespace: namespace(),
        name: LEASE,
        identity,
        leaseDurationSeconds: LEASE_SECONDS,
        renewIntervalMs: 1000,
        renewDeadlineMs: 3000,
        retryIntervalMs: 300,
      },
    });
    managers.push(manager);
    reconciled.set(identity, []);
    const configMaps = manager.informer({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      namespace: namespace(),
    });
    manager.addController({
      name: 'leader-test',
      for: configMaps,
      reconciler: {
        async reconcile(key) {
          reconciled.get(identity)?.push(key.name);
        },
      },
    });
    await manager.start();
    return manager;
  }

  it('lets only the leader reconcile, and hands over at once on a graceful stop', async () => {
    await createConfigMap('a');
    await createConfigMap('b');
    const first = await startCandidate('first');
    await vi.waitFor(() => expect(first.isLeader()).toBe(true), WAIT);
    const second = await startCandidate('second');
    await vi.waitFor(() => expect(second.ready()).toBe(true), WAIT);

    await vi.waitFor(() => expect(reconciled.get('first')?.sort()).toEqual(['a', 'b']), WAIT);
    await createConfigMap('c');
    await vi.waitFor(() => expect(reconciled.get('first')).toContain('c'), WAIT);
    expect(second.isLeader()).toBe(false);
    expect(reconciled.get('second')).toEqual([]);

    const lease = await readLease();
    expect(lease.spec?.holderIdentity).toBe('first');
    expect(lease.spec?.leaseDurationSeconds).toBe(LEASE_SECONDS);
    expect(lease.spec?.leaseTransitions).toBe(0);
    expect(lease.spec?.renewTime).toBeDefined();

    const stoppedAt = Date.now();
    await first.stop();
    expect((await readLease()).spec?.holderIdentity ?? '').not.toBe('first');
    await vi.waitFor(() => expect(second.isLeader()).toBe(true), WAIT);
    // A released lease is taken at the next try, well before it would have expired.
    expect(Date.now() - stoppedAt).toBeLessThan(LEASE_SECONDS * 1000);
    await vi.waitFor(() => expect(reconciled.get('second')?.sort()).toEqual(['a', 'b', 'c']), WAIT);

    const after = await readLease();
    expect(after.spec?.holderIdentity).toBe('second');
    expect(after.spec?.leaseTransitions).toBe(1);
  });

  it('takes over from a leader that stopped renewing without releasing, once the lease expires', async () => {
    await createConfigMap('a');
    const first = await startCandidate('first');
    await vi.waitFor(() => expect(first.isLeader()).toBe(true), WAIT);
    const second = await startCandidate('second');
    await vi.waitFor(() => expect(reconciled.get('first')).toEqual(['a']), WAIT);

    // As if the process died: no more renewals, and the lease still names it.
    const stoppedAt = Date.now();
    await first.stop({ releaseLease: false });
    expect((await readLease()).spec?.holderIdentity).toBe('first');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(second.isLeader()).toBe(false);

    await vi.waitFor(() => expect(second.isLeader()).toBe(true), WAIT);
    const tookMs = Date.now() - stoppedAt;
    // It waited for the lease to run out, and not much longer than that.
    expect(tookMs).toBeGreaterThanOrEqual(2000);
    expect(tookMs).toBeLessThan(3 * LEASE_SECONDS * 1000);
    await vi.waitFor(() => expect(reconciled.get('second')).toEqual(['a']), WAIT);
    expect((await readLease()).spec?.holderIdentity).toBe('second');
  });

  it('stops leading when another holder appears in the lease', async () => {
    const leader = await startCandidate('leader');
    await vi.waitFor(() => expect(leader.isLeader()).toBe(true), WAIT);

    // Someone else writes the lease (as a partitioned leader's successor would have). The typed client
    // writes Lease times with milliseconds, which the API server refuses (MicroTime): use ours.
    const client = new KubeClient(testKubeConfig());
    const path = `/apis/coordination.k8s.io/v1/namespaces/${namespace()}/leases/${LEASE}`;
    const lease = await client.request<{ spec: Record<string, unknown> }>({ method: 'GET', path });
    await client.request({
      method: 'PUT',
      path,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: microTime() } },
    });
    await vi.waitFor(() => expect(leader.isLeader()).toBe(false), WAIT);
    // The intruder never renews: once its lease runs out, the manager leads again.
    await vi.waitFor(() => expect(leader.isLeader()).toBe(true), WAIT);
    expect((await readLease()).spec?.holderIdentity).toBe('leader');
    // Its controllers run again.
    await createConfigMap('after-regain');
    await vi.waitFor(() => expect(reconciled.get('leader')).toContain('after-regain'), WAIT);
  });
});
