// `clusterforge dev up|status|down` as a user runs it: the built CLI as a process, in a folder of its
// own. What `make demo` and `make demo-down` run.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
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
function cli(args: string[], timeoutMs = 110_000): Promise<Run> {
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
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe('clusterforge dev', () => {
  let firstPids: number[] = [];

  it('up: starts everything, waits for the cluster and shows its nodes and version', async () => {
    const up = await cli(['dev', 'up', '--dir', dir, '--timeout', '90s']);
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

    firstPids = await pids();
    // etcd + kube-apiserver + operator, and the cluster's etcd, kube-apiserver, load balancer, 2 heart-beats.
    expect(firstPids.length).toBeGreaterThanOrEqual(8);
  }, 150_000);

  it('up again: adopts what runs and starts no process', async () => {
    const again = await cli(['dev', 'up', '--dir', dir, '--timeout', '90s']);
    expect(again.code, explain(again)).toBe(0);
    expect(again.stdout).toMatch(/management plane .* \(running;/);
    expect(again.stdout).toMatch(/operator +running; pid \d+/);
    expect(again.stdout.split('\n').filter((line) => /^demo-workers-\S+\s+Ready\s/.test(line))).toHaveLength(
      2,
    );
    expect(await pids()).toEqual(firstPids);
  }, 120_000);

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
    const down = await cli(['dev', 'down', '--dir', dir]);
    expect(down.code, explain(down)).toBe(0);
    expect(down.stdout).toContain('Clusters deleted by the operator');
    expect(await processesMentioning(`${dir}/`)).toEqual([]);
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
      '90s',
    ]);
    expect(up.code, explain(up)).toBe(0);
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    process.kill(state.operator.pid, 'SIGKILL');
    const clusterProcesses = await processesMentioning(`${dir}/state/`);
    expect(clusterProcesses.length).toBeGreaterThanOrEqual(4);

    const down = await cli(['dev', 'down', '--dir', dir]);
    expect(down.code, explain(down)).toBe(0);
    expect(down.stdout).toContain("the clusters' processes are killed instead of deleted");
    expect(await processesMentioning(`${dir}/`)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 150_000);
});
