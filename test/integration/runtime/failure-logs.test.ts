// What the operator's runtime logs while the API server is unreachable: one line per failure, with `err`,
// at warn, no stack trace, and not one line per retry (issue 15: it printed 40 stack traces in 30 s).
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/runtime/log.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { proxiedManager } from './proxied-manager.js';

interface Line {
  level: string;
  msg: string;
  informer?: string;
  controller?: string;
  err?: { type: string; message: string; code?: string | number; stack?: string };
  [key: string]: unknown;
}

const OUTAGE_MS = 10_000;
const WAIT = { timeout: 30_000, interval: 100 };

describe('failure logs while the API server is unreachable', () => {
  const namespace = useTestNamespace('rt-faillog');
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it('logs each failure once per component, at warn, with err and no stack, and says when it recovers', async () => {
    const api = testKubeConfig().makeApiClient(CoreV1Api);
    const create = (name: string): Promise<V1ConfigMap> =>
      api.createNamespacedConfigMap({
        namespace: namespace(),
        body: { metadata: { name, labels: { role: 'primary' } } },
      });
    for (const name of ['a', 'b', 'c']) await create(name);

    const text: string[] = [];
    const log = createLogger({
      name: 'clusterforge',
      destination: { write: (line: string) => void text.push(line) },
    });
    const { proxy, kc, manager } = await proxiedManager(cleanup, {
      log,
      // Short back-offs: many more retries in the outage than lines are allowed.
      informerDefaults: { backoffBaseMs: 100, backoffMaxMs: 1000 },
    });
    const primary = manager.informer<V1ConfigMap>({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      namespace: namespace(),
      labelSelector: 'role=primary',
    });
    manager.informer({ group: '', version: 'v1', plural: 'secrets', namespace: namespace() });
    // Each reconcile reads its object from the API server (through the proxy), and comes back soon.
    const client = new KubeClient(kc);
    let attempts = 0;
    let failed = 0;
    manager.addController({
      name: 'test',
      for: primary,
      queue: { baseDelayMs: 50, maxDelayMs: 500 },
      reconciler: {
        async reconcile(key) {
          attempts++;
          try {
            await client.request({
              method: 'GET',
              path: `/api/v1/namespaces/${key.namespace}/configmaps/${key.name}`,
            });
          } catch (err) {
            failed++;
            throw err;
          }
          return { requeueAfterMs: 200 };
        },
      },
    });
    await manager.start();
    await primary.waitForSync({ timeoutMs: 30_000 });
    await vi.waitFor(() => expect(attempts).toBeGreaterThanOrEqual(3), WAIT);

    const before = text.length;
    const retriesBefore = primary.stats.connectionErrors;
    proxy.down();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    const outage = text.slice(before).map((line) => JSON.parse(line) as Line);
    const watchRetries = primary.stats.connectionErrors - retriesBefore;

    // No stack trace anywhere, not even in the text.
    expect(text.slice(before).join('\n')).not.toMatch(/\bat .*\(.*:\d+:\d+\)|"stack"/);
    const failures = outage.filter((line) => line.level === 'warn' || line.level === 'error');
    for (const line of failures) {
      expect(line.level, line.msg).toBe('warn');
      expect(line.err, line.msg).toMatchObject({ type: expect.any(String), message: expect.any(String) });
      expect(line.err?.code, line.msg).toBeDefined();
    }
    // Both informers said that their watch failed, and the controller that reconciles failed; each once
    // (a line per 30 s at most), although they retried many times.
    const watchLines = failures.filter((line) => line.msg === 'watch failed; reconnecting');
    expect(new Set(watchLines.map((line) => line.informer)).size).toBe(2);
    expect(watchLines).toHaveLength(2);
    const reconcileLines = failures.filter((line) => line.controller === 'test');
    expect(reconcileLines).toHaveLength(1);
    expect(failures.length).toBeLessThanOrEqual(4);
    expect(watchRetries).toBeGreaterThan(5);
    expect(failed).toBeGreaterThan(10);

    // Back: a change arrives on the watch, a reconcile succeeds, and each says so once.
    proxy.up();
    await create('after');
    await vi.waitFor(() => {
      const recovered = text
        .slice(before)
        .map((line) => JSON.parse(line) as Line)
        .filter((line) => line.level === 'info' && line.msg.endsWith('after failures'));
      expect(recovered.map((line) => line.msg)).toContain('watching again after failures');
      expect(recovered.map((line) => line.msg)).toContain('reconciled after failures');
    }, WAIT);
  }, 90_000);
});
