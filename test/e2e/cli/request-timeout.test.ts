// An API server that accepts the connection and never answers (a TCP proxy that holds it): the command
// ends with one clear line and exit code 5, after --request-timeout when it is set, and otherwise when
// the TLS handshake has not finished within 10 s, as kubectl's transport gives up.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKubeConfig, testKubeconfigPath } from '../../support/kube.js';
import { type CliResult, GatedProxy, runCli } from './cli.js';

let dir: string;
let proxy: GatedProxy;
let kubeconfig: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-request-timeout-'));
  const server = testKubeConfig().getCurrentCluster()?.server;
  if (!server) throw new Error('the test kubeconfig has no server');
  proxy = await GatedProxy.start(server);
  kubeconfig = join(dir, 'held.kubeconfig');
  await proxy.writeKubeconfig(testKubeconfigPath(), kubeconfig);
});
afterAll(async () => {
  proxy.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI and measures from the moment the proxy holds its connection to the exit. */
async function timed(args: string[]): Promise<CliResult & { heldMs: number }> {
  const run = runCli(args, { timeoutMs: 40_000 });
  await Promise.race([proxy.waitForConnection(), run]);
  const held = performance.now();
  const res = await run;
  return { ...res, heldMs: performance.now() - held };
}

describe('an API server that never answers', () => {
  it('--request-timeout 2s: exit 5 after 2 s, the request and the timeout named', async () => {
    const res = await timed([
      'describe',
      'cluster',
      'demo',
      '-n',
      'held',
      '--kubeconfig',
      kubeconfig,
      '--request-timeout',
      '2s',
    ]);
    expect(res.code, res.stderr).toBe(5);
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `clusterforge describe cluster: cannot reach the management cluster at https://127.0.0.1:${proxy.port}: ` +
        'GET /apis/clusterforge.dev/v1alpha1/namespaces/held/clusters/demo: no answer within 2s',
    );
    expect(lines[1]).toMatch(/^ {2}fix: is it running\?/);
    expect(res.heldMs).toBeGreaterThan(1_500);
    expect(res.heldMs).toBeLessThan(8_000);
  });

  it('no --request-timeout (0, as kubectl): exit 5 when the TLS handshake has not finished in 10 s', async () => {
    const res = await timed(['get', 'kubeconfig', 'demo', '-n', 'held', '--kubeconfig', kubeconfig]);
    expect(res.code, res.stderr).toBe(5);
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(
        `^clusterforge get kubeconfig: cannot reach the management cluster at https://127\\.0\\.0\\.1:${proxy.port}: ` +
          'GET /api/v1/namespaces/held/secrets/demo-kubeconfig: the connection was accepted but not established ' +
          '\\(no TLS handshake\\) within 10s$',
      ),
    );
    expect(res.heldMs).toBeGreaterThan(9_000);
    expect(res.heldMs).toBeLessThan(20_000);
  });

  it('refuses a value that is not a duration: exit 2', async () => {
    const res = await runCli(['describe', 'cluster', 'demo', '--request-timeout', 'soon']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("'soon' is not a duration");
  });
});
