// Helpers for tests of the `integration` project, which run against the real API server started by
// test/env/global-setup.ts.

import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { type KubectlResult, kubectl as runKubectl } from '../../src/devenv/kubectl.js';
import { type KubeEnv, type KubeEnvOptions, startKubeEnv } from '../env/kube-env.js';

/** Label put on every namespace made by useTestNamespace. */
export const TEST_NAMESPACE_LABEL = 'clusterforge.dev/test-namespace';

/** The admin KubeConfig of the shared test API server. */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('kubeconfigPath'));
  return kc;
}

/** The path of the admin kubeconfig of the shared test API server. */
export function testKubeconfigPath(): string {
  return inject('kubeconfigPath');
}

/** A valid, unique namespace name: `<prefix>-<random>`, lower-case, at most 63 characters. */
export function uniqueName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'test';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

export interface TestNamespaceOptions {
  /** 'all' (default): one namespace for the whole describe block; 'each': a new one per test. */
  scope?: 'all' | 'each';
  /** Another KubeConfig than the shared one (e.g. from usePrivateKubeEnv). */
  kubeConfig?: () => KubeConfig;
}

/**
 * Creates a uniquely named namespace before the tests (beforeAll, or beforeEach with scope 'each') and
 * deletes it after them. Returns a getter of its name.
 *
 * No kube-controller-manager runs in the test environment, so a deleted namespace is not emptied: it
 * stays Terminating with its objects. Names are unique, so nothing leaks from one test into another.
 */
export function useTestNamespace(prefix: string, opts: TestNamespaceOptions = {}): () => string {
  let current: string | undefined;
  const create = async (): Promise<void> => {
    const api = (opts.kubeConfig?.() ?? testKubeConfig()).makeApiClient(CoreV1Api);
    const name = uniqueName(prefix);
    await api.createNamespace({ body: { metadata: { name, labels: { [TEST_NAMESPACE_LABEL]: 'true' } } } });
    current = name;
  };
  const remove = async (): Promise<void> => {
    const name = current;
    current = undefined;
    if (!name) return;
    const api = (opts.kubeConfig?.() ?? testKubeConfig()).makeApiClient(CoreV1Api);
    await api.deleteNamespace({ name }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 404) throw err;
    });
  };
  if (opts.scope === 'each') {
    beforeEach(create);
    afterEach(remove);
  } else {
    beforeAll(create);
    afterAll(remove);
  }
  return () => {
    if (!current)
      throw new Error(
        'useTestNamespace: the namespace exists only inside the tests and hooks that follow it',
      );
    return current;
  };
}

/**
 * A Kubernetes environment of the test file's own (beforeAll/afterAll), for tests that restart the
 * API server or compact etcd, which would disturb other test files on the shared one. Costs one more
 * etcd and kube-apiserver start (several seconds).
 */
export function usePrivateKubeEnv(opts: KubeEnvOptions = {}): () => KubeEnv {
  let env: KubeEnv | undefined;
  beforeAll(async () => {
    env = await startKubeEnv(opts);
  });
  afterAll(async () => {
    await env?.stop();
    env = undefined;
  });
  return () => {
    if (!env)
      throw new Error(
        'usePrivateKubeEnv: the environment exists only inside the tests and hooks that follow it',
      );
    return env;
  };
}

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Default: the shared test API server's admin kubeconfig. */
  kubeconfigPath?: string;
  /** Adds `--namespace <namespace>`. */
  namespace?: string;
  /** Extra environment variables. */
  env?: NodeJS.ProcessEnv;
  /** Kill kubectl after this long. Default 60 s. */
  timeoutMs?: number;
}

/**
 * Runs the `kubectl` binary with --kubeconfig set (src/devenv/kubectl.ts, what `dev up` runs). Never
 * throws for a non-zero exit: check `code`.
 */
export function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  return runKubectl(
    opts.kubeconfigPath ?? testKubeconfigPath(),
    [...(opts.namespace ? [`--namespace=${opts.namespace}`] : []), ...args],
    {
      input: opts.input,
      env: { ...process.env, ...opts.env },
      timeoutMs: opts.timeoutMs ?? 60_000,
    },
  );
}
