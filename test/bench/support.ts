// What the benchmark sections share: kubectl, the operator as a process, its /metrics, waiting for a
// Cluster. Nothing here asserts; every wait has a deadline.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { freePort } from '../../src/net/ports.js';

export const repo = new URL('../../', import.meta.url).pathname;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A progress line on stderr (the figures go to stdout at the end). */
export const progress = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

export function run(cmd: string, args: string[], input?: string): Promise<string> {
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

/** The samples of one metric family in /metrics text: labels (as written) → value. */
export function samples(metricsText: string, name: string): { labels: string; value: number }[] {
  return metricsText
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => ({
      labels: l.slice(name.length, l.lastIndexOf(' ')),
      value: Number(l.slice(l.lastIndexOf(' ') + 1)),
    }));
}

/** Counter values by label set; `diff` subtracts an earlier reading. */
export type Reading = Map<string, number>;

export function diff(after: Reading, before: Reading): Reading {
  const out: Reading = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

export const total = (r: Reading): number => [...r.values()].reduce((a, b) => a + b, 0);

/** clusterforge_aws_api_calls_total counts as `service:operation  n` lines, most first; per minute too when given the window. */
export function byOperation(r: Reading, perMinuteOver?: number): string {
  return [...r.entries()]
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .map(([labels, n]) => {
      const op = /operation="([^"]+)"/.exec(labels)?.[1] ?? labels;
      const svc = /service="([^"]+)"/.exec(labels)?.[1] ?? '';
      const shown = perMinuteOver ? `${n} (${((n * 60_000) / perMinuteOver).toFixed(2)}/min)` : String(n);
      return `    ${`${svc}:${op}`.padEnd(48)} ${shown}`;
    })
    .join('\n');
}

export interface OperatorProcess {
  readonly pid: number;
  /** SIGKILL, now (an interrupted bench). */
  killSync(): void;
  readonly metricsURL: string;
  /** One metric family, summed per label set. */
  read(name: string): Promise<Reading>;
  peakRSSMiB(): Promise<number>;
  stop(): Promise<void>;
}

/** Starts `clusterforge operator` (the built CLI) and waits for /readyz. */
export async function startOperatorProcess(
  kubeconfigPath: string,
  env: Record<string, string>,
  args: string[] = [],
  /** Flags for node itself (e.g. --cpu-prof, which NODE_OPTIONS does not take). */
  nodeArgs: string[] = [],
): Promise<OperatorProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(repo, 'bin/clusterforge.js'),
      'operator',
      `--kubeconfig=${kubeconfigPath}`,
      `--metrics-bind-address=127.0.0.1:${port}`,
      ...args,
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const metricsURL = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const deadline = performance.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${metricsURL}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (child.exitCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error('the operator did not answer /readyz within 30 s');
    }
    await sleep(200);
  }
  return {
    pid: child.pid as number,
    killSync: () => child.kill('SIGKILL'),
    metricsURL,
    async read(name) {
      const text = await (await fetch(`${metricsURL}/metrics`)).text();
      const out: Reading = new Map();
      for (const s of samples(text, name)) out.set(s.labels, (out.get(s.labels) ?? 0) + s.value);
      return out;
    },
    async peakRSSMiB() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    },
    stop,
  };
}

/** A Cluster as the API returns it. */
type AnyObject = any;

export function clusterReader(kc: KubeConfig, namespace = 'default') {
  const api = kc.makeApiClient(CustomObjectsApi);
  return (name: string): Promise<AnyObject | undefined> =>
    api
      .getNamespacedCustomObject({
        group: 'clusterforge.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'clusters',
        name,
      })
      .catch(() => undefined);
}

export const isReady = (c: AnyObject): boolean =>
  Boolean(c?.status?.conditions?.some((x: AnyObject) => x.type === 'Ready' && x.status === 'True'));

/** Polls `check` every `everyMs` until it is true; throws after `deadlineMs` naming `what`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  deadlineMs: number,
  everyMs = 200,
): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > deadlineMs)
      throw new Error(`${what}: not after ${deadlineMs / 1000} s`);
    await sleep(everyMs);
  }
  return (performance.now() - started) / 1000;
}
