// How the CLI finds its kubeconfig (src/cli/kubeconfig.ts), as kubectl does: --kubeconfig, else the
// files of KUBECONFIG merged (the first wins), else ~/.kube/config; --context; exit code 5 when none.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { CliError } from '../../../src/cli/common.js';
import { loadKubeConfig } from '../../../src/cli/kubeconfig.js';

let dir: string;

// vi.stubEnv sets the real environment (os.homedir() reads HOME from it) and puts it back afterwards.
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-unit-'));
  vi.stubEnv('HOME', join(dir, 'home'));
  vi.stubEnv('KUBECONFIG', undefined);
  vi.stubEnv('KUBERNETES_SERVICE_HOST', undefined);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

interface Spec {
  clusters?: Record<string, Record<string, unknown>>;
  users?: Record<string, Record<string, unknown>>;
  contexts?: Record<string, { cluster: string; user?: string; namespace?: string }>;
  current?: string;
}

/** Writes a kubeconfig and returns its path. */
async function kubeconfig(name: string, spec: Spec): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, stringify(toDoc(spec)));
  return path;
}

function toDoc(spec: Spec): object {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: Object.entries(spec.clusters ?? {}).map(([n, cluster]) => ({ name: n, cluster })),
    users: Object.entries(spec.users ?? {}).map(([n, user]) => ({ name: n, user })),
    contexts: Object.entries(spec.contexts ?? {}).map(([n, context]) => ({ name: n, context })),
    ...(spec.current ? { 'current-context': spec.current } : {}),
  };
}

const one = (server: string, ctx = 'c'): Spec => ({
  clusters: { [ctx]: { server } },
  users: { [ctx]: { token: `token-of-${ctx}` } },
  contexts: { [ctx]: { cluster: ctx, user: ctx } },
  current: ctx,
});

function cliError(fn: () => unknown): CliError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    return err as CliError;
  }
  throw new Error('no error thrown');
}

describe('which kubeconfig', () => {
  it('--kubeconfig wins over KUBECONFIG and ~/.kube/config', async () => {
    vi.stubEnv('KUBECONFIG', await kubeconfig('env', one('https://env:6443')));
    const flag = await kubeconfig('flag', one('https://flag:6443'));
    expect(loadKubeConfig({ kubeconfig: flag }).getCurrentCluster()?.server).toBe('https://flag:6443');
  });

  it('a --kubeconfig that does not exist is exit code 5, the file named', () => {
    const err = cliError(() => loadKubeConfig({ kubeconfig: join(dir, 'nope') }));
    expect(err.exitCode).toBe(5);
    expect(err.message).toBe(`the kubeconfig ${join(dir, 'nope')} (--kubeconfig) does not exist`);
  });

  it('merges the files of KUBECONFIG: the first with a name wins, missing files are skipped', async () => {
    const a = await kubeconfig('a', {
      clusters: { shared: { server: 'https://a:6443' } },
      contexts: { shared: { cluster: 'shared' }, onlyA: { cluster: 'shared', namespace: 'from-a' } },
    });
    const b = await kubeconfig('b', {
      clusters: { shared: { server: 'https://b:6443' }, onlyB: { server: 'https://only-b:6443' } },
      contexts: { shared: { cluster: 'onlyB' }, onlyB: { cluster: 'onlyB' } },
      current: 'shared',
    });
    vi.stubEnv('KUBECONFIG', [join(dir, 'missing'), a, b].join(':'));
    const kc = loadKubeConfig({});
    // current-context from b (the first file that sets it); the context and cluster it names from a.
    expect(kc.getCurrentContext()).toBe('shared');
    expect(kc.getCurrentCluster()?.server).toBe('https://a:6443');
    expect(kc.getContexts().map((c) => c.name)).toEqual(['shared', 'onlyA', 'onlyB']);
    expect(loadKubeConfig({ context: 'onlyB' }).getCurrentCluster()?.server).toBe('https://only-b:6443');
  });

  it('the first file that sets current-context wins', async () => {
    const a = await kubeconfig('a', one('https://a:6443', 'a'));
    const b = await kubeconfig('b', one('https://b:6443', 'b'));
    vi.stubEnv('KUBECONFIG', `${b}:${a}`);
    expect(loadKubeConfig({}).getCurrentCluster()?.server).toBe('https://b:6443');
  });

  it('uses ~/.kube/config when KUBECONFIG is not set', async () => {
    await mkdir(join(dir, 'home', '.kube'), { recursive: true });
    await writeFile(join(dir, 'home', '.kube', 'config'), stringify(toDoc(one('https://home:6443'))));
    expect(loadKubeConfig({}).getCurrentCluster()?.server).toBe('https://home:6443');
    // ...but not when KUBECONFIG is set, even to files that do not exist (as kubectl).
    vi.stubEnv('KUBECONFIG', join(dir, 'missing'));
    const err = cliError(() => loadKubeConfig({}));
    expect(err.exitCode).toBe(5);
    expect(err.message).toBe(
      `no kubeconfig: none of the files of KUBECONFIG (${join(dir, 'missing')}) exists`,
    );
  });

  it('none at all is exit code 5 with the fix', () => {
    const err = cliError(() => loadKubeConfig({}));
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('KUBECONFIG is not set');
    expect(err.fix).toContain('--kubeconfig FILE');
  });

  it('--context picks a context; an unknown one is exit code 5 naming those there are', async () => {
    const path = await kubeconfig('k', {
      clusters: { x: { server: 'https://x:6443' }, y: { server: 'https://y:6443' } },
      contexts: { x: { cluster: 'x', namespace: 'nx' }, y: { cluster: 'y' } },
      current: 'x',
    });
    const kc = loadKubeConfig({ kubeconfig: path, context: 'y' });
    expect(kc.getCurrentCluster()?.server).toBe('https://y:6443');
    const err = cliError(() => loadKubeConfig({ kubeconfig: path, context: 'z' }));
    expect(err.exitCode).toBe(5);
    expect(err.message).toBe("context 'z' is not in the kubeconfig (have: x, y)");
  });

  it('no current-context (or one naming no cluster) is exit code 5', async () => {
    const path = await kubeconfig('k', { clusters: { x: { server: 'https://x:6443' } } });
    const err = cliError(() => loadKubeConfig({ kubeconfig: path }));
    expect(err.exitCode).toBe(5);
    expect(err.message).toContain('no current cluster');
  });

  it('a file that is not a kubeconfig is exit code 5 naming it', async () => {
    const path = join(dir, 'bad');
    await writeFile(path, 'clusters:\n- name: x\n  cluster: {}\n');
    const err = cliError(() => loadKubeConfig({ kubeconfig: path }));
    expect(err.exitCode).toBe(5);
    expect(err.message).toBe(
      `cannot read the kubeconfig ${path} (--kubeconfig): clusters[0].cluster.server is missing`,
    );
  });
});
