// `npm run bench`: how fast the operator brings local clusters up, and what it costs. Prints figures;
// asserts nothing (speed is measured here, never in a timed test). Bounded: each cluster has a
// deadline, and everything it started is stopped at the end.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { renderTemplate } from '../../src/templates/render.js';
import { startKubeEnv } from '../env/kube-env.js';

const repo = new URL('../../', import.meta.url).pathname;
const DEADLINE_MS = 180_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')}: ${err}`)),
    );
    child.stdin.end(input ?? '');
  });
}

async function apiRequests(metricsURL: string): Promise<number> {
  const body = await (await fetch(`${metricsURL}/metrics`)).text();
  return body
    .split('\n')
    .filter((l) => l.startsWith('clusterforge_api_requests_total{'))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

async function peakRSSMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function main() {
  const env = await startKubeEnv();
  const stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-bench-'));
  const kubectl = (args: string[], input?: string) =>
    run('kubectl', [`--kubeconfig=${env.kubeconfigPath}`, ...args], input);
  const port = await freePort();
  const operator = spawn(
    process.execPath,
    [
      join(repo, 'bin/clusterforge.js'),
      'operator',
      `--kubeconfig=${env.kubeconfigPath}`,
      `--metrics-bind-address=127.0.0.1:${port}`,
    ],
    {
      env: { ...process.env, CLUSTERFORGE_STATE_DIR: stateDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const metricsURL = `http://127.0.0.1:${port}`;
  const api = env.kubeConfig.makeApiClient(CustomObjectsApi);
  const get = (name: string) =>
    api
      .getNamespacedCustomObject({
        group: 'clusterforge.dev',
        version: 'v1alpha1',
        namespace: 'default',
        plural: 'clusters',
        name,
      })
      .catch(() => undefined) as Promise<any>;
  const rows: string[] = [];
  try {
    await kubectl(['apply', '--server-side', '-f', join(repo, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(repo, 'crds')]);
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`${metricsURL}/readyz`)
        .then((r) => r.ok)
        .catch(() => false));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const template = await readFile(join(repo, 'templates/local/cluster-template.yaml'), 'utf8');
    for (const controlPlanes of [1, 3]) {
      const name = `bench-cp${controlPlanes}`;
      const requestsBefore = await apiRequests(metricsURL);
      const started = performance.now();
      await kubectl(
        ['apply', '-f', '-'],
        renderTemplate(template, { CLUSTER_NAME: name, CONTROL_PLANE_MACHINE_COUNT: String(controlPlanes) }),
      );
      for (;;) {
        const c = await get(name);
        if (c?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')) break;
        if (performance.now() - started > DEADLINE_MS)
          throw new Error(`${name} not Ready after ${DEADLINE_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const seconds = (performance.now() - started) / 1000;
      const requests = (await apiRequests(metricsURL)) - requestsBefore;
      // Idle: what a Ready cluster costs in API requests per minute (sampled over 30 s).
      const idleBefore = await apiRequests(metricsURL);
      await new Promise((r) => setTimeout(r, 30_000));
      const idlePerMinute = ((await apiRequests(metricsURL)) - idleBefore) * 2;
      rows.push(
        `local cluster, ${controlPlanes} control-plane machine(s) + 2 workers: apply -> Ready ${seconds.toFixed(1)} s; ` +
          `${requests} API requests to Ready; ${idlePerMinute} API requests/min idle`,
      );
      await kubectl(['delete', 'cluster.clusterforge.dev', name, '--wait=false']);
      const deleting = performance.now();
      while (await get(name)) {
        if (performance.now() - deleting > DEADLINE_MS)
          throw new Error(`${name} not deleted after ${DEADLINE_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 200));
      }
      rows.push(`  delete -> gone ${((performance.now() - deleting) / 1000).toFixed(1)} s`);
    }
    rows.push(`operator peak RSS (VmHWM): ${await peakRSSMiB(operator.pid!)} MiB`);
  } finally {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
    await env.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  console.log(`\nclusterforge bench (${new Date().toISOString()}, node ${process.version})`);
  for (const row of rows) console.log(row);
}

await main();
