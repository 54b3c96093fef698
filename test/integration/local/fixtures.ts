// Cluster / Machine / MachineTemplate objects for driving the local provider directly (made by
// test/support/provider-objects.ts, through the API's zod schemas), and a driver that calls a
// provider the way a reconciler would: again and again, honouring requeueAfterMs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Machine, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import type {
  ClusterCertificates,
  ClusterContext,
  InfrastructureProvider,
  MachineContext,
  MachineStatusReport,
  Progress,
} from '../../../src/provider/contract.js';
import type { ProcessRecord } from '../../../src/supervisor/index.js';
import {
  clusterCtx,
  clusterObject,
  machineCtx,
  machineObject,
  machineTemplateObject,
} from '../../support/provider-objects.js';

export const NAMESPACE = 'team-a';

export const makeCluster = (name: string): Cluster =>
  clusterObject({ namespace: NAMESPACE, name, uid: `uid-${name}` }, { local: {} });

export const makeTemplate = (name: string, nodeHeartbeatSeconds = 5): MachineTemplate =>
  machineTemplateObject(NAMESPACE, name, { local: { nodeHeartbeatSeconds } });

/** A Machine of `cluster` (made by makeCluster, so in NAMESPACE). */
export const makeMachine = (
  cluster: Cluster,
  name: string,
  role: 'ControlPlane' | 'Worker',
  version: string,
  template: MachineTemplate,
): Machine => machineObject(cluster, name, role, version, template);

export const clusterContext = (cluster: Cluster, certificates: ClusterCertificates): ClusterContext =>
  clusterCtx(cluster, certificates);

export const machineContext = (
  cluster: Cluster,
  certificates: ClusterCertificates,
  machine: Machine,
  template: MachineTemplate,
): MachineContext => machineCtx(cluster, certificates, machine, template);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls step until it reports done; fails on `failed` or when time runs out. */
export async function driveUntilDone<T extends { progress: Progress }>(
  what: string,
  step: () => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await step();
      lastError = undefined;
      if (last.progress.state === 'done') return last;
      if (last.progress.state === 'failed') {
        throw new Error(`${what}: failed ${last.progress.reason}: ${last.progress.message}`);
      }
      await sleep(Math.min(last.progress.requeueAfterMs, 500));
    } catch (err) {
      if (err instanceof Error && err.message.startsWith(`${what}: failed`)) throw err;
      lastError = err;
      await sleep(500);
    }
  }
  const state = last ? JSON.stringify(last.progress) : 'no answer';
  throw new Error(
    `${what}: not done after ${timeoutMs} ms (last: ${state}${lastError ? `; error: ${lastError}` : ''})`,
  );
}

/** Calls ensureMachine until the machine is ready, asking again `notReadyRetryMs` after a not-ready done. */
export async function ensureMachineReady(
  provider: InfrastructureProvider,
  ctx: MachineContext,
  timeoutMs: number,
  notReadyRetryMs = 500,
): Promise<MachineStatusReport> {
  return await driveUntilDone(
    `machine ${ctx.machine.metadata.name}`,
    async () => {
      const report = await provider.ensureMachine(ctx);
      if (report.progress.state === 'done' && !report.ready) {
        return {
          ...report,
          progress: {
            state: 'inProgress',
            requeueAfterMs: notReadyRetryMs,
            message: 'not ready',
          } as Progress,
        };
      }
      return report;
    },
    timeoutMs,
  );
}

export async function deleteMachineFully(
  provider: InfrastructureProvider,
  ctx: MachineContext,
  timeoutMs: number,
) {
  await driveUntilDone(
    `delete ${ctx.machine.metadata.name}`,
    async () => ({ progress: await provider.deleteMachine(ctx) }),
    timeoutMs,
  );
}

/** Every process whose command line mentions `dir` (the test's state folder), from /proc. */
export function processesUnder(dir: string): { pid: number; argv: string[] }[] {
  const found: { pid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      if (argv.some((a) => a.includes(dir))) found.push({ pid: Number(entry), argv });
    } catch {
      // gone
    }
  }
  return found;
}

/** The processes recorded in the state folder, by what they are ("cp-1/etcd", "lb", ...). */
export function recordedProcesses(stateDir: string): Map<string, ProcessRecord> {
  const out = new Map<string, ProcessRecord>();
  const root = join(stateDir, 'local', NAMESPACE);
  let clusters: string[] = [];
  try {
    clusters = readdirSync(root);
  } catch {
    return out;
  }
  for (const cluster of clusters) {
    const dir = join(root, cluster);
    try {
      const record = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8'));
      if (record.loadBalancer) out.set(`${cluster}/lb`, record.loadBalancer);
    } catch {
      // no record
    }
    let machines: string[] = [];
    try {
      machines = readdirSync(join(dir, 'machines'));
    } catch {
      continue;
    }
    for (const m of machines) {
      try {
        const r = JSON.parse(readFileSync(join(dir, 'machines', m, 'machine.json'), 'utf8'));
        if (r.etcd?.process) out.set(`${m}/etcd`, r.etcd.process);
        if (r.apiServer?.process) out.set(`${m}/kube-apiserver`, r.apiServer.process);
        if (r.worker?.heartbeat?.process) out.set(`${m}/heartbeat`, r.worker.heartbeat.process);
      } catch {
        // no record
      }
    }
  }
  return out;
}

/** Last resort after a failed test: SIGKILL whatever still runs from the state folder. */
export function killEverythingUnder(dir: string): void {
  for (const p of processesUnder(dir)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
