// Runs the operator in this test process against the shared test API server, with its own state
// folder for the local provider, and waits for what a user would wait for.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect } from 'vitest';
import { LocalProvider } from '../../providers/local/provider.js';
import { GROUP, VERSION } from '../../src/api/v1alpha1/meta.js';
import { type RunningOperator, startOperator } from '../../src/operator/run.js';
import type { InfrastructureProvider } from '../../src/provider/contract.js';
import { createLogger } from '../../src/runtime/log.js';
import { installCRDs } from './crds.js';
import { kubectl, testKubeConfig } from './kube.js';
import { removeNodesUnder } from './kubelet-nodes.js';
import { processesMentioning } from './procs.js';

export interface OperatorHandle {
  operator: RunningOperator;
  stateDir: string;
  provider: LocalProvider;
}

/**
 * The operator in this test process, watching one namespace, with the given providers and 2 reconciles
 * per controller; its log at LOG_LEVEL (default warn).
 */
export function startTestOperator(
  kubeConfig: KubeConfig,
  namespace: string,
  providers: InfrastructureProvider[],
): Promise<RunningOperator> {
  return startOperator({
    kubeConfig,
    log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
    metricsBindAddress: '127.0.0.1:0',
    namespace,
    providers,
    concurrency: 2,
  });
}

/** Before the file's tests: the CRDs and the operator watching `namespace` with `providers`; stopped after. */
export function useTestOperator(
  kubeConfig: KubeConfig,
  namespace: () => string,
  providers: () => InfrastructureProvider[],
): void {
  let operator: RunningOperator | undefined;
  beforeAll(async () => {
    await installCRDs(kubeConfig);
    operator = await startTestOperator(kubeConfig, namespace(), providers());
  });
  afterAll(async () => {
    await operator?.stop();
  });
}

/** Starts the operator before the tests of the file (watching one namespace) and stops it after. */
export function useOperator(namespace: () => string): () => OperatorHandle {
  let handle: OperatorHandle | undefined;
  beforeAll(async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-state-'));
    const provider = new LocalProvider({ stateDir });
    const operator = await startTestOperator(testKubeConfig(), namespace(), [provider]);
    handle = { operator, stateDir, provider };
  });
  afterAll(async () => {
    if (!handle) return;
    // Tear down what the tests left, through the operator, so that no process outlives the file.
    const kc = testKubeConfig();
    for (const cluster of await listObjects(kc, 'clusters', namespace())) {
      await kc
        .makeApiClient(CustomObjectsApi)
        .deleteNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: namespace(),
          plural: 'clusters',
          name: cluster.metadata.name,
        })
        .catch(() => undefined);
    }
    await waitFor(
      'clusters to be deleted',
      async () => ((await listObjects(kc, 'clusters', namespace())).length === 0 ? true : undefined),
      {
        timeoutMs: 90_000,
      },
    ).catch((err) => console.error(`useOperator teardown: ${(err as Error).message}`));
    await handle.operator.stop();
    for (const p of await processesMentioning(handle.stateDir)) {
      console.error(`useOperator teardown: killing leftover process ${p.pid}: ${p.cmdline.slice(0, 120)}`);
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await removeNodesUnder(handle.stateDir);
    await rm(handle.stateDir, { recursive: true, force: true });
  });
  return () => {
    if (!handle) throw new Error('useOperator: only inside tests');
    return handle;
  };
}

export async function getObject(
  kc: KubeConfig,
  plural: string,
  namespace: string,
  name: string,
): Promise<any> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    return await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export async function listObjects(kc: KubeConfig, plural: string, namespace: string): Promise<any[]> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const list = (await api.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural,
  })) as { items: any[] };
  return list.items;
}

/** Polls `check` until it returns a value that is not undefined, or fails with `what` and the last seen state. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const state = opts.describe ? `\n${await opts.describe()}` : '';
      throw new Error(`timed out waiting for ${what}${state}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

/**
 * Deletes the Cluster as a user would (`kubectl delete --wait=false`, which must print nothing on
 * stderr) and waits until the API server no longer has it, that is until every finalizer is done.
 */
export async function deleteClusterAndWait(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
  describe?: () => Promise<string>,
): Promise<void> {
  // By its full name: other tests install CRDs named `clusters` too (Fleet's, Karmada's).
  expect(
    (await kubectl(['delete', '-n', namespace, `cluster.clusterforge.dev/${name}`, '--wait=false'])).stderr,
  ).toBe('');
  await waitFor(
    'the Cluster to be gone',
    async () => ((await getObject(kc, 'clusters', namespace, name)) ? undefined : true),
    { timeoutMs, ...(describe ? { describe } : {}) },
  );
}
