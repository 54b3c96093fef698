// The CLI's light Kubeconfig (src/kube/kubeconfig/) against client-node's KubeConfig, the one it stands
// in for: for the same file, applyToHTTPSOptions must give the same TLS material, headers and agent kind.
import { mkdtempSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { Kubeconfig } from '../../../src/kube/kubeconfig/config.js';
import { mergeKubeconfigs, parseKubeconfig, readKubeconfigFile } from '../../../src/kube/kubeconfig/load.js';

// Made now, not in beforeAll: the cases below name files in it.
const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-light-'));
beforeAll(async () => {
  await writeFile(join(dir, 'ca.crt'), 'CA FROM FILE');
  await writeFile(join(dir, 'token'), 'token-from-file');
  // An exec credential plugin, as kubectl runs them: the ExecCredential on stdout.
  const plugin = join(dir, 'plugin.sh');
  await writeFile(
    plugin,
    `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-'"$PLUGIN_WORD"'"}}'\n`,
  );
  await chmod(plugin, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** One cluster, one user, one context (current). */
async function file(name: string, cluster: object, user?: object): Promise<string> {
  const path = join(dir, name);
  await writeFile(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster }],
      users: user ? [{ name: 'u', user }] : [],
      contexts: [{ name: 'x', context: { cluster: 'c', ...(user ? { user: 'u' } : {}) } }],
      'current-context': 'x',
    }),
  );
  return path;
}

/** What applyToHTTPSOptions set, comparable. */
async function applied(kc: { applyToHTTPSOptions(o: object): Promise<void> }): Promise<unknown> {
  const opts: Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(opts);
  const text = (v: unknown) => (v === undefined ? undefined : String(v));
  return {
    headers: opts.headers,
    auth: opts.auth,
    ca: text(opts.ca),
    cert: text(opts.cert),
    key: text(opts.key),
    rejectUnauthorized: opts.rejectUnauthorized,
    servername: opts.servername,
    agent: (opts.agent as object | undefined)?.constructor.name,
  };
}

async function both(path: string): Promise<[unknown, unknown]> {
  const theirs = new KubeConfig();
  theirs.loadFromFile(path);
  return [await applied(new Kubeconfig(readKubeconfigFile(path))), await applied(theirs)];
}

describe('Kubeconfig.applyToHTTPSOptions, as client-node', () => {
  const server = 'https://127.0.0.1:6443';
  const cases: [string, object, object | undefined][] = [
    ['token and CA data', { server, 'certificate-authority-data': b64('CA') }, { token: 'abc' }],
    [
      'client certificate and key data',
      { server, 'certificate-authority-data': b64('CA') },
      { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
    ],
    ['a relative CA file', { server, 'certificate-authority': 'ca.crt' }, { token: 'abc' }],
    [
      'username and password',
      { server, 'insecure-skip-tls-verify': true },
      { username: 'me', password: 'pw' },
    ],
    ['a token file', { server, 'tls-server-name': 'api.internal' }, { 'token-file': join(dir, 'token') }],
    ['impersonation', { server }, { token: 'abc', as: 'someone-else' }],
    [
      'an exec plugin',
      { server },
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: join(dir, 'plugin.sh'),
          env: [{ name: 'PLUGIN_WORD', value: 'works' }],
          interactiveMode: 'Never',
        },
      },
    ],
    ['a context without user', { server, 'certificate-authority-data': b64('CA') }, undefined],
    [
      'plain HTTP with insecure-skip-tls-verify',
      { server: 'http://127.0.0.1:8080', 'insecure-skip-tls-verify': true },
      { token: 't' },
    ],
  ];
  it.each(cases)('%s', async (name, cluster, user) => {
    const [ours, theirs] = await both(await file(name.replaceAll(' ', '-'), cluster, user));
    expect(ours).toEqual(theirs);
  });

  it('the exec plugin really ran (the comparison is not of two empty results)', async () => {
    const path = await file('exec-check', { server }, cases[6]?.[2]);
    expect(await applied(new Kubeconfig(readKubeconfigFile(path)))).toMatchObject({
      headers: { Authorization: 'Bearer exec-works' },
    });
  });

  it('plain HTTP without insecure-skip-tls-verify is refused, as client-node refuses it', async () => {
    const path = await file('http', { server: 'http://127.0.0.1:8080' }, { token: 't' });
    const theirs = new KubeConfig();
    theirs.loadFromFile(path);
    const message = await theirs.applyToHTTPSOptions({}).then(
      () => 'no error',
      (e: Error) => e.message,
    );
    await expect(new Kubeconfig(readKubeconfigFile(path)).applyToHTTPSOptions({})).rejects.toThrow(message);
  });

  it('toClientNode() is the same kubeconfig in client-node', async () => {
    const path = await file(
      'to-client-node',
      { server, 'certificate-authority-data': b64('CA') },
      { token: 'abc' },
    );
    const ours = new Kubeconfig(readKubeconfigFile(path));
    const theirs = await ours.toClientNode();
    expect(theirs.getCurrentCluster()?.server).toBe(server);
    expect(await applied(theirs)).toEqual(await applied(ours));
  });
});

describe('parsing and merging', () => {
  it('an empty file is an empty kubeconfig', () => {
    expect(parseKubeconfig('')).toEqual({ clusters: [], users: [], contexts: [], currentContext: undefined });
  });

  it('YAML that is not a map is refused', () => {
    expect(() => parseKubeconfig('- a\n- b\n')).toThrow(/not a kubeconfig/);
  });

  it('the first of each name wins, and the first current-context', () => {
    const a = parseKubeconfig(stringify({ clusters: [{ name: 'c', cluster: { server: 'https://a' } }] }));
    const b = parseKubeconfig(
      stringify({
        clusters: [
          { name: 'c', cluster: { server: 'https://b' } },
          { name: 'd', cluster: { server: 'https://d' } },
        ],
        'current-context': 'from-b',
      }),
    );
    const merged = mergeKubeconfigs([a, b]);
    expect(merged.clusters.map((c) => c.server)).toEqual(['https://a', 'https://d']);
    expect(merged.currentContext).toBe('from-b');
  });
});
