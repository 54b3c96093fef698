// The informer's read-your-writes against the shared real API server: the answer to a write is cached at
// once, an older watch event that arrives after it does not replace it, a late answer cannot bring back
// an object whose deletion the watch has told, and the answer that removed the last finalizer drops it.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Informer } from '../../../src/runtime/informer.js';
import { KubeClient, resourcePath } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { TcpProxy } from './tcp-proxy.js';

const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps' };
const WAIT = { timeout: 20_000, interval: 50 };

describe('Informer.observeWrite', () => {
  const namespace = useTestNamespace('rt-ryw', { scope: 'each' });
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });
  const direct = () => new KubeClient(testKubeConfig());

  const startInformer = (client: KubeClient, labelSelector?: string): Informer<V1ConfigMap> => {
    const informer = new Informer<V1ConfigMap>({
      ...CONFIGMAPS,
      namespace: namespace(),
      client,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      ...(labelSelector ? { labelSelector } : {}),
    });
    cleanup.push(() => informer.stop());
    informer.start();
    return informer;
  };
  const create = (name: string, labels: Record<string, string> = {}) =>
    direct().request<V1ConfigMap>({
      method: 'POST',
      path: resourcePath(CONFIGMAPS, { namespace: namespace() }),
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data: { v: '1' } },
    });
  const patch = (name: string, v: string) =>
    direct().request<V1ConfigMap>({
      method: 'PATCH',
      path: resourcePath(CONFIGMAPS, { namespace: namespace(), name }),
      body: { data: { v } },
      contentType: 'application/merge-patch+json',
    });

  it('caches the answer at once, and a watch event older than it does not replace it', async () => {
    const proxy = await TcpProxy.start(testKubeConfig().getCurrentCluster()!.server);
    cleanup.push(() => proxy.close());
    const informer = startInformer(new KubeClient(proxy.kubeConfig(testKubeConfig())));
    await informer.waitForSync({ timeoutMs: 20_000 });
    const seenVersions: string[] = [];
    informer.addHandler({
      onAdd: (key) => seenVersions.push(informer.getByKey(key)?.metadata?.resourceVersion ?? ''),
      onUpdate: (key) => seenVersions.push(informer.getByKey(key)?.metadata?.resourceVersion ?? ''),
    });

    // The watch hears nothing while both writes happen; then it reconnects from where it was and gets
    // the ADDED (older) and MODIFIED events after the answer to the second write is cached.
    proxy.stallAll();
    await create('cm');
    const latest = await patch('cm', '2');
    informer.observeWrite(latest);
    const cached = informer.get(namespace(), 'cm');
    expect(cached?.data).toEqual({ v: '2' });
    expect(cached?.metadata?.resourceVersion).toBe(latest.metadata?.resourceVersion);
    expect(cached?.metadata?.managedFields).toBeUndefined();
    expect(Object.isFrozen(cached)).toBe(true);
    expect(seenVersions).toEqual([]); // observeWrite tells no handler: the watch event will

    proxy.dropAll();
    await vi.waitFor(() => expect(seenVersions.length).toBeGreaterThanOrEqual(2), WAIT);
    // Every handler call, the older ADDED included, read the newer object.
    expect(new Set(seenVersions)).toEqual(new Set([latest.metadata?.resourceVersion]));
    expect(informer.get(namespace(), 'cm')?.data).toEqual({ v: '2' });
  });

  it('drops an object once the answer removed its last finalizer; the watch events before it do not bring it back', async () => {
    const proxy = await TcpProxy.start(testKubeConfig().getCurrentCluster()!.server);
    cleanup.push(() => proxy.close());
    const informer = startInformer(new KubeClient(proxy.kubeConfig(testKubeConfig())));
    await informer.waitForSync({ timeoutMs: 20_000 });
    await direct().request({
      method: 'POST',
      path: resourcePath(CONFIGMAPS, { namespace: namespace() }),
      body: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'held', finalizers: ['test.dev/hold'] },
      },
    });
    await vi.waitFor(() => expect(informer.get(namespace(), 'held')).toBeDefined(), WAIT);
    const cachedOnEvent: Array<string | undefined> = [];
    let deletedHeard = false;
    informer.addHandler({
      onAdd: (key) => cachedOnEvent.push(informer.getByKey(key)?.metadata?.resourceVersion),
      onUpdate: (key) => cachedOnEvent.push(informer.getByKey(key)?.metadata?.resourceVersion),
      onDelete: () => {
        deletedHeard = true;
      },
    });

    cachedOnEvent.length = 0; // addHandler's replay of the cached object

    // The deletion (a MODIFIED with the finalizer still on) and the finalizer's removal both happen while
    // the watch hears nothing; the answer to the removal comes first.
    proxy.stallAll();
    await direct().request({
      method: 'DELETE',
      path: resourcePath(CONFIGMAPS, { namespace: namespace(), name: 'held' }),
    });
    const released = await direct().request<V1ConfigMap>({
      method: 'PATCH',
      path: resourcePath(CONFIGMAPS, { namespace: namespace(), name: 'held' }),
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
    });
    expect(released.metadata?.deletionTimestamp).toBeDefined();
    informer.observeWrite(released);
    expect(informer.get(namespace(), 'held')).toBeUndefined();

    proxy.dropAll();
    await vi.waitFor(() => expect(deletedHeard).toBe(true), WAIT);
    // Whatever the watch told before its DELETED, no handler found the object back in the cache.
    expect(cachedOnEvent.filter((v) => v !== undefined)).toEqual([]);
    expect(informer.get(namespace(), 'held')).toBeUndefined();
  });

  it('does not bring back a deleted object, and ignores objects outside its selector', async () => {
    const informer = startInformer(direct(), 'mine');
    await informer.waitForSync({ timeoutMs: 20_000 });
    const answer = await create('gone', { mine: 'yes' });
    await vi.waitFor(() => expect(informer.get(namespace(), 'gone')).toBeDefined(), WAIT);
    await direct().request({
      method: 'DELETE',
      path: resourcePath(CONFIGMAPS, { namespace: namespace(), name: 'gone' }),
    });
    await vi.waitFor(() => expect(informer.get(namespace(), 'gone')).toBeUndefined(), WAIT);
    informer.observeWrite(answer); // a late answer to the create
    expect(informer.get(namespace(), 'gone')).toBeUndefined();

    const other = await create('not-mine', { other: 'x' });
    informer.observeWrite(other);
    expect(informer.get(namespace(), 'not-mine')).toBeUndefined();

    // Created again under the same name: newer than the deletion, so it is cached.
    const again = await create('gone', { mine: 'yes' });
    informer.observeWrite(again);
    expect(informer.get(namespace(), 'gone')?.metadata?.uid).toBe(again.metadata?.uid);
  });
});
