// Expected failures to find or reach the management cluster: one line naming what is wrong, one `fix:`
// line, exit code 5 (docs/cli.md), no stack trace, and nothing on stdout. In every command that talks
// to a server, the operator included.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { testKubeconfigPath } from '../../support/kube.js';
import { type CliResult, runCli } from './cli.js';

const commands = [
  ['operator'],
  ['init', '--wait=false'],
  ['describe', 'cluster', 'demo'],
  ['get', 'kubeconfig', 'demo'],
  ['delete', 'cluster', 'demo'],
];
/** How the error names the command: its words, without flags and without the cluster's name. */
const label = (args: string[]) => args.filter((a) => !a.startsWith('-') && a !== 'demo').join(' ');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-kubeconfig-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The two lines of an expected failure, and nothing else. */
function expectOneError(res: CliResult, command: string, message: string): void {
  expect(res.code, res.stderr).toBe(5);
  // init says what it is about to install before it connects; no other command writes to stdout.
  if (command === 'init') expect(res.stdout).not.toMatch(/error|\n\s+at /i);
  else expect(res.stdout).toBe('');
  const lines = res.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(2);
  expect(lines[0]).toBe(`clusterforge ${command}: ${message}`);
  expect(lines[1]).toMatch(/^ {2}fix: /);
}

/** The environment of a user with no KUBECONFIG, no ~/.kube/config, outside any pod. */
function noKubeconfigEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  delete env.KUBECONFIG;
  delete env.KUBERNETES_SERVICE_HOST;
  return env;
}

describe('a kubeconfig that cannot be found', () => {
  it.each(commands)('%s --kubeconfig missing.kubeconfig: exit 5, the file named', async (...args) => {
    const res = await runCli([...args, '--kubeconfig', 'missing.kubeconfig']);
    expectOneError(res, label(args), 'the kubeconfig missing.kubeconfig (--kubeconfig) does not exist');
  });

  it.each(commands)('%s with no KUBECONFIG and no ~/.kube/config: exit 5 and the fix', async (...args) => {
    const res = await runCli(args, { env: noKubeconfigEnv(dir) });
    expectOneError(
      res,
      label(args),
      `no kubeconfig: KUBECONFIG is not set, ${dir}/.kube/config does not exist and this is not a pod`,
    );
    expect(res.stderr).toContain('fix: pass --kubeconfig FILE or set KUBECONFIG');
  });

  it('KUBECONFIG naming only missing files: exit 5, the variable named', async () => {
    const res = await runCli(['describe', 'cluster', 'demo'], {
      env: { ...noKubeconfigEnv(dir), KUBECONFIG: '/nonexistent/a:/nonexistent/b' },
    });
    expectOneError(
      res,
      'describe cluster',
      'no kubeconfig: none of the files of KUBECONFIG (/nonexistent/a:/nonexistent/b) exists',
    );
  });
});

describe('a management cluster that refuses connections', () => {
  let kubeconfig: string;
  let server: string;
  beforeAll(async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    server = `https://127.0.0.1:${port}`;
    const doc = parse(await readFile(testKubeconfigPath(), 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    for (const c of doc.clusters) c.cluster.server = server;
    kubeconfig = join(dir, 'refused.kubeconfig');
    await writeFile(kubeconfig, stringify(doc), { mode: 0o600 });
  });

  it.each(commands)('%s: exit 5, one line naming the server', async (...args) => {
    const res = await runCli([...args, '--kubeconfig', kubeconfig]);
    const port = new URL(server).port;
    expectOneError(
      res,
      label(args),
      `cannot reach the management cluster at ${server}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });
});

describe('a management cluster that refuses the credentials', () => {
  let kubeconfig: string;
  let server: string;
  beforeAll(async () => {
    const doc = parse(await readFile(testKubeconfigPath(), 'utf8')) as {
      clusters: { cluster: { server: string } }[];
      users: { name: string; user: Record<string, unknown> }[];
    };
    server = doc.clusters[0]?.cluster.server ?? '';
    // The admin's user replaced by a token the API server does not know: 401 on every request.
    doc.users = doc.users.map((u) => ({ name: u.name, user: { token: 'not-a-token-of-this-server' } }));
    kubeconfig = join(dir, 'refused-credentials.kubeconfig');
    await writeFile(kubeconfig, stringify(doc), { mode: 0o600 });
  });

  it.each(commands)('%s: exit 5, one line saying so', async (...args) => {
    const res = await runCli([...args, '--kubeconfig', kubeconfig]);
    expectOneError(
      res,
      label(args),
      `the management cluster at ${server} refused the credentials of the kubeconfig (401 Unauthorized)`,
    );
  });
});
