// Controllers driven by a Manager (no leader election) against the shared API server: reconcile from the
// cache, mapped watches, requeue-after, back-off, terminal errors, and the health and metrics endpoints.
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mapByLabel, type ObjectKey, type Result } from '../../../src/runtime/controller.js';
import { TerminalError, TransientError } from '../../../src/runtime/errors.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';

const WAIT = { timeout: 20_000, interval: 50 };

interface Call {
  key: string;
  /** What the reconciler read from the cache. */
  data: Record<string, string> | undefined;
  log: Logger;
}

describe('Controller in a Manager', () => {
  const namespace = useTestNamespace('rt-controller', { scope: 'each' });
  const api = (): CoreV1Api => testKubeConfig().makeApiClient(CoreV1Api);
  const managers: Manager[] = [];
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.stop()));
  });

  const create = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
    api().createNamespacedConfigMap({ namespace: namespace(), body: { metadata: { name, labels }, data } });
  const setData = (name: string, key: string, value: string) =>
    api().patchNamespacedConfigMap({
      name,
      namespace: namespace(),
      body: [{ op: 'add', path: `/data/${key}`, value }],
    });

  /** A manager with one controller over ConfigMaps labelled role=primary, mapped from role=child. */
  async function startManager(
    reconcile: (key: ObjectKey, cm: V1ConfigMap | undefined) => Promise<Result | undefined>,
  ) {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const manager = new Manager({ kubeConfig: testKubeConfig(), address: '127.0.0.1:0', metrics });
    managers.push(manager);
    const primary = manager.informer<V1ConfigMap>({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      namespace: namespace(),
      labelSelector: 'role=primary',
    });
    const children = manager.informer<V1ConfigMap>({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      namespace: namespace(),
      labelSelector: 'role=child',
    });
    const calls: Call[] = [];
    manager.addController({
      name: 'test',
      for: primary,
      watches: [{ informer: children, map: mapByLabel('parent') }],
      workers: 2,
      queue: { baseDelayMs: 50, maxDelayMs: 500 },
      reconciler: {
        async reconcile(key, log) {
          const cm = primary.get(key.namespace, key.name);
          calls.push({ key: `${key.namespace}/${key.name}`, data: cm?.data, log });
          return reconcile(key, cm);
        },
      },
    });
    await manager.start();
    return { manager, metrics, calls, primary, children };
  }

  it('reconciles each primary object from the cache, again on change, and for a mapped child', async () => {
    await create('p1', { v: '1' }, { role: 'primary' });
    const { manager, calls } = await startManager(async () => undefined);
    const key = `${namespace()}/p1`;
    await vi.waitFor(() => expect(calls.map((c) => c.key)).toContain(key), WAIT);
    expect(calls[0]?.data).toEqual({ v: '1' });
    expect(manager.ready()).toBe(true);

    await setData('p1', 'v', '2');
    await vi.waitFor(() => expect(calls.at(-1)?.data).toEqual({ v: '2' }), WAIT);

    const before = calls.length;
    await create('c1', { x: '1' }, { role: 'child', parent: 'p1' });
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(before), WAIT);
    expect(calls.at(-1)?.key).toBe(key);

    // Deleting a child maps through the object it last was.
    const beforeDelete = calls.length;
    await api().deleteNamespacedConfigMap({ name: 'c1', namespace: namespace() });
    await vi.waitFor(() => expect(calls.length).toBeGreaterThan(beforeDelete), WAIT);
    expect(calls.at(-1)?.key).toBe(key);

    // Deleting the primary reconciles it once more; the cache no longer has it.
    await api().deleteNamespacedConfigMap({ name: 'p1', namespace: namespace() });
    await vi.waitFor(() => expect(calls.at(-1)?.data).toBeUndefined(), WAIT);
  });

  it('gives each reconcile a child logger with controller, namespace, name and reconcileID', async () => {
    await create('p1', {}, { role: 'primary' });
    const { calls } = await startManager(async () => undefined);
    await vi.waitFor(() => expect(calls).toHaveLength(1), WAIT);
    const bindings = (calls[0] as Call).log.bindings();
    expect(bindings).toMatchObject({ controller: 'test', namespace: namespace(), name: 'p1' });
    expect(bindings.reconcileID).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('requeues after requeueAfterMs, backs off on errors, and stops on a terminal error', async () => {
    await create('later', {}, { role: 'primary' });
    await create('flaky', {}, { role: 'primary' });
    await create('broken', {}, { role: 'primary' });
    const counts = new Map<string, number>();
    const { calls, metrics } = await startManager(async (key) => {
      const n = (counts.get(key.name) ?? 0) + 1;
      counts.set(key.name, n);
      if (key.name === 'later' && n === 1) return { requeueAfterMs: 200 };
      if (key.name === 'flaky' && n <= 2) throw new TransientError('not yet');
      if (key.name === 'broken') throw new TerminalError('InvalidSpec', 'cannot work');
      return undefined;
    });
    await vi.waitFor(() => {
      expect(counts.get('later')).toBe(2);
      expect(counts.get('flaky')).toBe(3);
      expect(counts.get('broken')).toBe(1);
    }, WAIT);
    // Well past the back-off the terminal key would have had: it was not retried.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(counts.get('broken')).toBe(1);
    expect(counts.get('flaky')).toBe(3);
    expect(calls).toHaveLength(6);

    const text = (await metrics.text()).body;
    expect(text).toMatch(/clusterforge_reconcile_total\{controller="test",result="requeue"\} 1/);
    expect(text).toMatch(/clusterforge_reconcile_total\{controller="test",result="error"\} 2/);
    expect(text).toMatch(/clusterforge_reconcile_total\{controller="test",result="terminal"\} 1/);
    expect(text).toMatch(/clusterforge_reconcile_errors_total\{controller="test"\} 3/);
  });

  it('serves /healthz, /readyz and /metrics on its address', async () => {
    await create('p1', {}, { role: 'primary' });
    const { manager, calls } = await startManager(async () => undefined);
    const url = manager.url() as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await vi.waitFor(() => expect(calls).toHaveLength(1), WAIT);

    const healthz = await fetch(`${url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe('ok\n');
    const readyz = await fetch(`${url}/readyz`);
    expect(readyz.status).toBe(200);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    const body = await metrics.text();
    expect(body).toContain('clusterforge_reconcile_duration_seconds_bucket{le="0.005",controller="test"}');
    expect(body).toMatch(/clusterforge_workqueue_depth\{name="test"\} 0/);
    expect(body).toMatch(/clusterforge_api_requests_total\{verb="list",code="200",resource="[^"]+"\} [1-9]/);
    expect(body).toMatch(
      /clusterforge_informer_loop_events_total\{informer="configmaps in [^"]+ \(role=primary\)",event="list"\} 1/,
    );
    expect((await fetch(`${url}/nope`)).status).toBe(404);

    await manager.stop();
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('answers /readyz 503 until its informers have synced', async () => {
    const manager = new Manager({
      kubeConfig: testKubeConfig(),
      address: '127.0.0.1:0',
      metrics: new RuntimeMetrics({ processMetrics: false }),
    });
    managers.push(manager);
    // A resource that does not exist: the informer cannot list it, so it never syncs.
    manager.informer({
      group: 'nothing.clusterforge.dev',
      version: 'v1',
      plural: 'nothings',
      namespace: namespace(),
    });
    await manager.start();
    const readyz = await fetch(`${manager.url()}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toMatch(/informers not synced: nothings\.nothing\.clusterforge\.dev/);
    expect((await fetch(`${manager.url()}/healthz`)).status).toBe(200);
  });
});
