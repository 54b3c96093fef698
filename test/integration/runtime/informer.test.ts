// The informer against the shared real API server: paginated list, add/update/delete, a dropped
// connection, and a watch that goes silent.
import { CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Informer } from '../../../src/runtime/informer.js';
import type { KubeObject } from '../../../src/runtime/object-key.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { TcpProxy } from './tcp-proxy.js';

function serverOf(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster');
  return cluster.server;
}

const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps' };
const WAIT = { timeout: 20_000, interval: 50 };

interface Recorded {
  adds: string[];
  updates: string[];
  deletes: Array<[string, KubeObject]>;
}

function record(informer: Informer): Recorded {
  const seen: Recorded = { adds: [], updates: [], deletes: [] };
  informer.addHandler({
    onAdd: (key) => seen.adds.push(key),
    onUpdate: (key) => seen.updates.push(key),
    onDelete: (key, last) => seen.deletes.push([key, last]),
  });
  return seen;
}

describe('Informer', () => {
  const namespace = useTestNamespace('rt-informer', { scope: 'each' });
  const api = (): CoreV1Api => testKubeConfig().makeApiClient(CoreV1Api);
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  const configMap = (
    name: string,
    data: Record<string, string> = {},
    labels: Record<string, string> = {},
  ): V1ConfigMap => ({
    metadata: { name, namespace: namespace(), labels },
    data,
  });

  const startInformer = (opts: Partial<ConstructorParameters<typeof Informer>[0]> = {}): Informer => {
    const informer = new Informer({
      ...CONFIGMAPS,
      namespace: namespace(),
      client: new KubeClient(testKubeConfig()),
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      ...opts,
    });
    cleanup.push(() => informer.stop());
    informer.start();
    return informer;
  };

  it('lists in pages, then sees adds, updates and deletes; handlers get keys, the cache has the objects', async () => {
    const core = api();
    for (let i = 0; i < 12; i++) {
      await core.createNamespacedConfigMap({
        namespace: namespace(),
        body: configMap(`cm-${i}`, { i: String(i) }),
      });
    }
    const informer = startInformer({ pageSize: 5 });
    const seen = record(informer);
    await informer.waitForSync({ timeoutMs: 20_000 });

    expect(informer.stats.pages).toBeGreaterThanOrEqual(3);
    expect(informer.stats.lists).toBe(1);
    expect(informer.size).toBe(12);
    expect(seen.adds.sort()).toEqual(Array.from({ length: 12 }, (_, i) => `${namespace()}/cm-${i}`).sort());
    const cm3 = informer.get(namespace(), 'cm-3') as V1ConfigMap;
    expect(cm3.data).toEqual({ i: '3' });
    expect(cm3.kind).toBe('ConfigMap');
    expect(cm3.apiVersion).toBe('v1');

    // The cache's own object, read-only: a change throws instead of changing what others read, and
    // managedFields (which the server sets) are not kept.
    expect(() => {
      (cm3.data as Record<string, string>).i = 'changed';
    }).toThrow(TypeError);
    expect((informer.get(namespace(), 'cm-3') as V1ConfigMap).data).toEqual({ i: '3' });
    expect(cm3.metadata?.managedFields).toBeUndefined();

    await core.createNamespacedConfigMap({ namespace: namespace(), body: configMap('added', { a: '1' }) });
    await core.patchNamespacedConfigMap({
      name: 'cm-1',
      namespace: namespace(),
      body: [{ op: 'replace', path: '/data/i', value: 'one' }],
    });
    await core.deleteNamespacedConfigMap({ name: 'cm-2', namespace: namespace() });

    await vi.waitFor(() => {
      expect(seen.adds).toContain(`${namespace()}/added`);
      expect(seen.updates).toContain(`${namespace()}/cm-1`);
      expect(seen.deletes.map(([key]) => key)).toContain(`${namespace()}/cm-2`);
    }, WAIT);
    expect((informer.get(namespace(), 'cm-1') as V1ConfigMap).data).toEqual({ i: 'one' });
    expect(informer.get(namespace(), 'cm-2')).toBeUndefined();
    expect((seen.deletes[0]?.[1] as V1ConfigMap | undefined)?.data).toEqual({ i: '2' });
    expect(informer.list().map((o) => o.metadata?.name)).toContain('added');
    expect(informer.list({ where: (o) => (o as V1ConfigMap).data?.i === 'one' })).toHaveLength(1);
    expect(informer.stats.relists).toBe(0);
  });

  it('narrows by label selector', async () => {
    const core = api();
    await core.createNamespacedConfigMap({
      namespace: namespace(),
      body: configMap('in', {}, { pick: 'yes' }),
    });
    await core.createNamespacedConfigMap({
      namespace: namespace(),
      body: configMap('out', {}, { pick: 'no' }),
    });
    const informer = startInformer({ labelSelector: 'pick=yes' });
    await informer.waitForSync({ timeoutMs: 20_000 });
    expect(informer.keys()).toEqual([`${namespace()}/in`]);
    expect(informer.list({ labels: { pick: 'yes' } })).toHaveLength(1);
  });

  it('replays the cache as adds to a handler added after the sync', async () => {
    await api().createNamespacedConfigMap({ namespace: namespace(), body: configMap('early') });
    const informer = startInformer();
    await informer.waitForSync({ timeoutMs: 20_000 });
    const seen = record(informer);
    expect(seen.adds).toEqual([`${namespace()}/early`]);
  });

  it('reconnects after the connection drops and sees later changes, without relisting', async () => {
    const kc = testKubeConfig();
    const proxy = await TcpProxy.start(serverOf(kc));
    cleanup.push(() => proxy.close());
    const informer = startInformer({ client: new KubeClient(proxy.kubeConfig(kc)) });
    const seen = record(informer);
    await informer.waitForSync({ timeoutMs: 20_000 });
    await vi.waitFor(() => expect(informer.stats.watches).toBe(1), WAIT);
    const acceptedBefore = proxy.accepted;

    proxy.dropAll();
    await vi.waitFor(() => expect(informer.stats.connectionErrors).toBeGreaterThanOrEqual(1), WAIT);
    await api().createNamespacedConfigMap({ namespace: namespace(), body: configMap('after-drop') });

    await vi.waitFor(() => expect(seen.adds).toContain(`${namespace()}/after-drop`), WAIT);
    expect(proxy.accepted).toBeGreaterThan(acceptedBefore);
    expect(informer.stats.watches).toBeGreaterThanOrEqual(2);
    expect(informer.stats.relists).toBe(0);
  });

  it('resumes a watch the server ends (its timeoutSeconds) from where it was, without relisting', async () => {
    const informer = startInformer({ watchTimeoutSeconds: 1 });
    const seen = record(informer);
    await informer.waitForSync({ timeoutMs: 20_000 });
    await vi.waitFor(() => expect(informer.stats.watches).toBeGreaterThanOrEqual(3), WAIT);
    await api().createNamespacedConfigMap({ namespace: namespace(), body: configMap('later') });
    await vi.waitFor(() => expect(seen.adds).toContain(`${namespace()}/later`), WAIT);
    expect(informer.stats).toMatchObject({
      lists: 1,
      relists: 0,
      connectionErrors: 0,
      staleAborts: 0,
      gone: 0,
    });
  });

  it('relists when the watch goes silent (no event, no bookmark) for staleAfterMs', async () => {
    const kc = testKubeConfig();
    const proxy = await TcpProxy.start(serverOf(kc));
    cleanup.push(() => proxy.close());
    const informer = startInformer({ client: new KubeClient(proxy.kubeConfig(kc)), staleAfterMs: 1500 });
    const seen = record(informer);
    await informer.waitForSync({ timeoutMs: 20_000 });
    await vi.waitFor(() => expect(informer.stats.watches).toBe(1), WAIT);

    // The watch's connection stays open but delivers nothing more: the change below never arrives on it.
    proxy.stallAll();
    await api().createNamespacedConfigMap({ namespace: namespace(), body: configMap('while-stalled') });

    await vi.waitFor(() => expect(seen.adds).toContain(`${namespace()}/while-stalled`), WAIT);
    expect(informer.stats.staleAborts).toBeGreaterThanOrEqual(1);
    expect(informer.stats.relists).toBeGreaterThanOrEqual(1);
    expect(informer.get(namespace(), 'while-stalled')).toBeDefined();
  });

  it('stops: waitForSync of a stopped informer rejects, and stop() is idempotent', async () => {
    const informer = new Informer({
      ...CONFIGMAPS,
      namespace: namespace(),
      client: new KubeClient(testKubeConfig()),
    });
    const waiting = informer.waitForSync();
    await informer.stop();
    await expect(waiting).rejects.toThrow(/stopped before it synced/);
    await informer.stop();
  });
});
