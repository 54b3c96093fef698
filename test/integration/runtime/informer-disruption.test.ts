// The informer across an API server restart and an etcd compaction, on a Kubernetes environment of this
// file's own (restarting the shared one would disturb the other test files).
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Informer } from '../../../src/runtime/informer.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { usePrivateKubeEnv, useTestNamespace } from '../../support/kube.js';
import { TcpProxy } from './tcp-proxy.js';

const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps' };
const WAIT = { timeout: 60_000, interval: 100 };

describe('Informer across API server restarts and etcd compaction', () => {
  const env = usePrivateKubeEnv();
  const namespace = useTestNamespace('rt-disrupt', { scope: 'each', kubeConfig: () => env().kubeConfig });
  const api = (): CoreV1Api => env().kubeConfig.makeApiClient(CoreV1Api);
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  const create = (name: string, data: Record<string, string> = {}): Promise<V1ConfigMap> =>
    api().createNamespacedConfigMap({ namespace: namespace(), body: { metadata: { name }, data } });

  // Short back-offs by default, so that each case is quick; `defaultBackoff` keeps the operator's own.
  const startInformer = (
    kc: KubeConfig,
    opts: { defaultBackoff?: boolean } = {},
  ): { informer: Informer; adds: string[]; updates: string[]; deletes: string[] } => {
    const informer = new Informer({
      ...CONFIGMAPS,
      namespace: namespace(),
      client: new KubeClient(kc),
      ...(opts.defaultBackoff ? {} : { backoffBaseMs: 100, backoffMaxMs: 1000 }),
    });
    const adds: string[] = [];
    const updates: string[] = [];
    const deletes: string[] = [];
    informer.addHandler({
      onAdd: (key) => adds.push(key),
      onUpdate: (key) => updates.push(key),
      onDelete: (key) => deletes.push(key),
    });
    cleanup.push(() => informer.stop());
    informer.start();
    return { informer, adds, updates, deletes };
  };

  it('keeps watching across a restart of the API server and sees later changes', async () => {
    await create('before');
    const { informer, adds } = startInformer(env().kubeConfig);
    await informer.waitForSync({ timeoutMs: 30_000 });
    await vi.waitFor(() => expect(informer.stats.watches).toBe(1), WAIT);

    await env().restartApiServer();
    await create('after-restart');

    await vi.waitFor(() => expect(adds).toContain(`${namespace()}/after-restart`), WAIT);
    expect(informer.keys()).toEqual([`${namespace()}/after-restart`, `${namespace()}/before`]);
    expect(informer.stats.watches).toBeGreaterThanOrEqual(2);
    // A new API server's watch cache starts at the current revision, so resuming from the old
    // resourceVersion usually gets a 410 and one relist; never more.
    expect(informer.stats.relists).toBeLessThanOrEqual(1);
  });

  it('relists exactly once when it comes back to a compacted resourceVersion, and the cache is right', async () => {
    await create('keep', { v: '1' });
    await create('change', { v: '1' });
    await create('remove', { v: '1' });
    const proxy = await TcpProxy.start(env().server);
    cleanup.push(() => proxy.close());
    const { informer, adds, updates, deletes } = startInformer(proxy.kubeConfig(env().kubeConfig));
    await informer.waitForSync({ timeoutMs: 30_000 });
    await vi.waitFor(() => expect(informer.stats.watches).toBe(1), WAIT);
    const oldResourceVersion = informer.lastSyncResourceVersion;

    // Cut the informer off, change things behind its back, compact etcd past its resourceVersion, and
    // restart the API server: a running server's watch cache would otherwise still serve the old
    // resourceVersion from memory; a fresh one starts at the current revision, like etcd now.
    proxy.down();
    await api().patchNamespacedConfigMap({
      name: 'change',
      namespace: namespace(),
      body: [{ op: 'replace', path: '/data/v', value: '2' }],
    });
    await api().deleteNamespacedConfigMap({ name: 'remove', namespace: namespace() });
    await create('new', { v: '1' });
    await env().compactEtcd();
    await env().restartApiServer();
    proxy.up();

    await vi.waitFor(() => expect(informer.stats.relists).toBe(1), WAIT);
    expect(informer.stats.gone).toBe(1);
    expect(informer.lastSyncResourceVersion).not.toBe(oldResourceVersion);
    expect(informer.keys()).toEqual([`${namespace()}/change`, `${namespace()}/keep`, `${namespace()}/new`]);
    expect((informer.get(namespace(), 'change') as V1ConfigMap).data).toEqual({ v: '2' });
    // The relist told the handlers what changed while the informer was away.
    expect(adds).toContain(`${namespace()}/new`);
    expect(updates).toEqual([`${namespace()}/change`]);
    expect(deletes).toEqual([`${namespace()}/remove`]);

    // And it watches again from the relist: a later change arrives without another relist.
    await create('later');
    await vi.waitFor(() => expect(adds).toContain(`${namespace()}/later`), WAIT);
    expect(informer.stats.relists).toBe(1);
    expect(informer.stats.gone).toBe(1);
  });

  it('is back within 5 s of the end of a long outage, relisting at once from a new API server', async () => {
    await create('before');
    const proxy = await TcpProxy.start(env().server);
    cleanup.push(() => proxy.close());
    const { informer, adds } = startInformer(proxy.kubeConfig(env().kubeConfig), { defaultBackoff: true });
    await informer.waitForSync({ timeoutMs: 30_000 });
    await vi.waitFor(() => expect(informer.stats.watches).toBe(1), WAIT);

    // 15 s unreachable, the API server restarted meanwhile: a plain exponential back-off (250 ms
    // doubling to 30 s) would by then wait 8 s or more before its next try.
    proxy.down();
    await env().restartApiServer();
    await new Promise((r) => setTimeout(r, 15_000));
    expect(informer.stats.connectionErrors).toBeGreaterThanOrEqual(5);
    proxy.up();
    await create('after-outage');
    await vi.waitFor(() => expect(adds).toContain(`${namespace()}/after-outage`), {
      timeout: 5_000,
      interval: 50,
    });
    expect(informer.keys()).toEqual([`${namespace()}/after-outage`, `${namespace()}/before`]);
  }, 60_000);
});
