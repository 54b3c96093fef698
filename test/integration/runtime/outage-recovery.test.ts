// Reconciles resume within 5 s of the end of a 15 s API server outage, with the operator's own back-offs
// (issue 16): the keys that failed all through it had per-key back-offs of 10 s and more by then, and
// go back at once when the informer reaches the server again.
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/runtime/log.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { proxiedManager } from './proxied-manager.js';

const OUTAGE_MS = 15_000;
const NAMES = ['a', 'b', 'c'];

describe('reconciles after an API server outage', () => {
  const namespace = useTestNamespace('rt-outage');
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('resume within 5 s of the server answering again, with the default back-offs', async () => {
    const api = testKubeConfig().makeApiClient(CoreV1Api);
    for (const name of NAMES) {
      await api.createNamespacedConfigMap({ namespace: namespace(), body: { metadata: { name } } });
    }
    const { proxy, kc, manager } = await proxiedManager(cleanup, {
      log: createLogger({ name: 'clusterforge', level: 'silent' }),
    });
    const configMaps = manager.informer<V1ConfigMap>({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      namespace: namespace(),
    });
    // Each reconcile reads its object from the API server (through the proxy) and looks again in
    // 500 ms, as a reconciler waiting on a cloud does.
    const client = new KubeClient(kc);
    const succeeded: Array<{ key: string; at: number }> = [];
    let failed = 0;
    manager.addController({
      name: 'outage',
      for: configMaps,
      reconciler: {
        async reconcile(key) {
          try {
            await client.request({
              method: 'GET',
              path: `/api/v1/namespaces/${key.namespace}/configmaps/${key.name}`,
            });
          } catch (err) {
            failed++;
            throw err;
          }
          succeeded.push({ key: key.name, at: Date.now() });
          return { requeueAfterMs: 500 };
        },
      },
    });
    await manager.start();
    await vi.waitFor(() => expect(new Set(succeeded.map((s) => s.key)).size).toBe(NAMES.length), {
      timeout: 30_000,
      interval: 100,
    });

    proxy.down();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    // Each key failed again and again: its back-off doubled from 200 ms to 6.4 s or more.
    expect(failed).toBeGreaterThanOrEqual(NAMES.length * 6);
    const back = Date.now();
    proxy.up();
    await vi.waitFor(
      () => {
        const after = new Set(succeeded.filter((s) => s.at >= back).map((s) => s.key));
        expect([...after].sort()).toEqual(NAMES);
      },
      { timeout: 5_000, interval: 50 },
    );
  }, 90_000);
});
