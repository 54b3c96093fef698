// `clusterforge dev up|status|down` as a user runs it: the built CLI as a process, in a folder of its
// own. What `make demo` and `make demo-down` run: a cluster whose kubelet workers run the demo's
// Deployment, one pod answering; after `dev down` nothing of it is left, kubelet nodes' cgroups
// and bridges included.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nodePaths } from '../../providers/local/kubelet/files.js';
import { type HostLeftovers, hostLeftovers, removeFromHost } from '../../providers/local/kubelet/host.js';
import { kubeletMachineDirs } from '../../src/devenv/node-sweep.js';
import { processesMentioning } from '../support/procs.js';

const repo = new URL('../../', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'clusterforge-dev-e2e-'));
const dir = join(root, 'dev');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/clusterforge.js <args>` from the repository, as `make demo` does. */
function cli(args: string[], timeoutMs = 280_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repo, 'bin/clusterforge.js'), ...args], {
      cwd: repo,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const pids = async (): Promise<number[]> =>
  (await processesMentioning(`${dir}/`)).map((p) => p.pid).sort((a, b) => a - b);

const explain = (run: Run): string =>
  `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;

/** Every kubelet node a `dev up` made, by its machine folder: what afterAll removes, whatever happened. */
const nodesSeen = new Set<string>();
async function kubeletNodes(): Promise<string[]> {
  const dirs = await kubeletMachineDirs(join(dir, 'state'));
  for (const d of dirs) nodesSeen.add(d);
  return dirs;
}
const leftovers = async (machines: string[]): Promise<HostLeftovers[]> =>
  Promise.all(machines.map((m) => hostLeftovers(nodePaths({ dir: m }))));
const NOTHING: HostLeftovers = { processes: [], cgroups: [], bridge: false };

/** The demo's pods as the cluster itself lists them, through the kubeconfig `dev up` wrote. */
async function helloPods(cluster: string): Promise<{ name: string; node: string; phase: string }[]> {
  const { stdout } = await promisify(execFile)('kubectl', [
    `--kubeconfig=${join(dir, `${cluster}.kubeconfig`)}`,
    'get',
    'pods',
    '-l',
    'app=hello',
    '-o',
    'json',
  ]);
  return JSON.parse(stdout).items.map((p: any) => ({
    name: p.metadata.name,
    node: p.spec.nodeName,
    phase: p.status.phase,
  }));
}

/** What `dev up` printed of the workload: the pods' nodes and the answer; checked against the cluster. */
async function expectWorkload(up: Run, cluster: string): Promise<void> {
  expect(up.stdout, explain(up)).toContain('Deployment hello: 2 pods Running and Ready');
  const nodes = up.stdout
    .split('\n')
    .filter((line) => new RegExp(`^${cluster}-workers-\\S+\\s+Ready\\s`).test(line))
    .map((line) => line.split(/\s+/)[0]);
  const pods = await helloPods(cluster);
  expect(pods).toHaveLength(2);
  for (const pod of pods) {
    expect(pod.phase).toBe('Running');
    expect(nodes).toContain(pod.node);
    // The table dev up showed lists each pod Running, with its node.
    expect(up.stdout).toMatch(new RegExp(`^${pod.name}\\s+1/1\\s+Running\\s.*\\s${pod.node}\\s`, 'm'));
  }
  const answer = /^hello from (\S+) \(/m.exec(up.stdout);
  expect(answer?.[1], up.stdout).toBeDefined();
  expect(pods.map((p) => p.name)).toContain(answer?.[1]);
  expect(up.stdout).toMatch(/answered through kubectl port-forward, [\d.]+ s after the cluster was Ready/);
  expect(up.stdout).toContain(
    `kubectl --kubeconfig ${dir}/${cluster}.kubeconfig port-forward deployment/hello`,
  );
}

beforeAll(async () => {
  // The CLI as a user runs it: compiled into dist/ (make demo builds first too).
  await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: repo, timeout: 180_000 });
}, 200_000);

afterAll(async () => {
  // Whatever happened above, leave nothing running.
  if (existsSync(dir)) await cli(['dev', 'down', '--dir', dir, '--timeout', '30s']).catch(() => undefined);
  for (const p of await processesMentioning(`${dir}/`)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  // Containers, cgroups and bridges of kubelet nodes name no folder: removed by their node's names.
  for (const machine of nodesSeen) {
    for (let i = 0; i < 20; i++) {
      const left = await removeFromHost(nodePaths({ dir: machine }));
      if (!left.processes.length && !left.cgroups.length && !left.bridge) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  rmSync(root, { recursive: true, force: true });
}, 90_000);

describe('clusterforge dev', () => {
  let firstPids: number[] = [];

  it('up: starts everything, waits for the cluster, shows its nodes and version, and its workload answering', async () => {
    const up = await cli(['dev', 'up', '--dir', dir, '--timeout', '2m']);
    expect(up.code, explain(up)).toBe(0);
    expect(up.stdout).toMatch(/management plane .* \(started; kube-apiserver pid \d+, etcd pid \d+\)/);
    expect(up.stdout).toMatch(/operator +started; pid \d+/);
    expect(up.stdout).toContain('Cluster demo is Ready');
    const nodes = up.stdout.split('\n').filter((line) => /^demo-workers-\S+\s+Ready\s/.test(line));
    expect(nodes, up.stdout).toHaveLength(2);
    expect(up.stdout).toContain(
      `Cluster demo serves Kubernetes ${inject('kubeVersion')} at https://127.0.0.1:`,
    );
    expect(up.stdout).toContain(`export KUBECONFIG=${dir}/kubeconfig`);
    expect(existsSync(join(dir, 'demo.kubeconfig'))).toBe(true);
    await expectWorkload(up, 'demo');
    expect(await kubeletNodes()).toHaveLength(2);

    firstPids = await pids();
    // etcd + kube-apiserver + operator, and the cluster's etcd, kube-apiserver, load balancer, and
    // each worker's containerd and kubelet.
    expect(firstPids.length).toBeGreaterThanOrEqual(10);
  }, 300_000);

  it('up again: adopts what runs and starts no process', async () => {
    const again = await cli(['dev', 'up', '--dir', dir, '--timeout', '2m']);
    expect(again.code, explain(again)).toBe(0);
    expect(again.stdout).toMatch(/management plane .* \(running;/);
    expect(again.stdout).toMatch(/operator +running; pid \d+/);
    expect(again.stdout.split('\n').filter((line) => /^demo-workers-\S+\s+Ready\s/.test(line))).toHaveLength(
      2,
    );
    // The same Deployment (server-side apply changed nothing), and its pods answer again.
    expect(again.stdout).toContain('deployment.apps/hello serverside-applied');
    await expectWorkload(again, 'demo');
    expect(await pids()).toEqual(firstPids);
  }, 300_000);

  it('status: shows the processes and the Ready cluster', async () => {
    const status = await cli(['dev', 'status', '--dir', dir]);
    expect(status.code, explain(status)).toBe(0);
    expect(status.stdout).toContain(`Dev environment in ${dir}: running`);
    expect(status.stdout).toMatch(/default\/demo\s+Ready\s+Ready=True/);

    const json = await cli(['dev', 'status', '--dir', dir, '-o', 'json']);
    const report = JSON.parse(json.stdout);
    expect(report.running).toBe(true);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    expect(report.components.map((c: any) => [c.name, c.pid, c.running])).toEqual([
      ['etcd', state.etcd.pid, true],
      ['kube-apiserver', state.apiServer.pid, true],
      ['operator', state.operator.pid, true],
    ]);
    expect(report.clusterProcesses).toBeGreaterThanOrEqual(5);
  });

  it('down: deletes the cluster through the operator, stops everything and removes the folder', async () => {
    const machines = await kubeletNodes();
    expect(machines).toHaveLength(2);
    expect((await leftovers(machines)).every((l) => l.processes.length > 0)).toBe(true);
    const down = await cli(['dev', 'down', '--dir', dir]);
    expect(down.code, explain(down)).toBe(0);
    expect(down.stdout).toContain('Clusters deleted by the operator');
    expect(await processesMentioning(`${dir}/`)).toEqual([]);
    expect(await leftovers(machines)).toEqual([NOTHING, NOTHING]);
    expect(existsSync(dir)).toBe(false);

    const again = await cli(['dev', 'down', '--dir', dir]);
    expect(again.code, explain(again)).toBe(0);
    expect(again.stdout).toContain(`Nothing runs in ${dir}`);
    const status = await cli(['dev', 'status', '--dir', dir]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('No dev environment');
  }, 150_000);
});

describe('clusterforge dev down without an operator', () => {
  it('kills every process that runs from the folder', async () => {
    const up = await cli([
      'dev',
      'up',
      '--dir',
      dir,
      '--name',
      'orphan',
      '--workers',
      '1',
      '--timeout',
      '2m',
    ]);
    expect(up.code, explain(up)).toBe(0);
    const machines = await kubeletNodes();
    expect(machines).toHaveLength(1);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    process.kill(state.operator.pid, 'SIGKILL');
    const clusterProcesses = await processesMentioning(`${dir}/state/`);
    expect(clusterProcesses.length).toBeGreaterThanOrEqual(4);

    const down = await cli(['dev', 'down', '--dir', dir]);
    expect(down.code, explain(down)).toBe(0);
    expect(down.stdout).toContain("the clusters' processes are killed instead of deleted");
    // Its containers, cgroups and bridge named no folder: dev down found the node by its own.
    expect(down.stdout).toContain('what 1 kubelet node held');
    expect(await processesMentioning(`${dir}/`)).toEqual([]);
    expect(await leftovers(machines)).toEqual([NOTHING]);
    expect(existsSync(dir)).toBe(false);
  }, 300_000);
});

describe('clusterforge dev up --workers 0', () => {
  it('makes a cluster without workers and says it skips the workload', async () => {
    const up = await cli(['dev', 'up', '--dir', dir, '--name', 'bare', '--workers', '0', '--timeout', '2m']);
    expect(up.code, explain(up)).toBe(0);
    expect(up.stdout).toContain('Cluster bare is Ready');
    expect(up.stdout).toContain('Deployment hello skipped: with --workers 0 there is no node to run it on');
    expect(up.stdout).not.toContain('port-forward deployment/hello');
    const down = await cli(['dev', 'down', '--dir', dir]);
    expect(down.code, explain(down)).toBe(0);
    expect(await processesMentioning(`${dir}/`)).toEqual([]);
  }, 300_000);
});
