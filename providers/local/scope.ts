// What one provider call about one machine works with: its folders, its record, the cluster's.
import type { Logger } from 'pino';
import { type CrashPoint, isCrashPoint } from '../../src/crash/points.js';
import type { Progress } from '../../src/provider/contract.js';
import type { ProcessSlot, SpawnOptions } from '../../src/supervisor/index.js';
import type { KubeBinaries } from './binaries.js';
import type { ClusterIdentities, ServiceNetwork } from './certificates.js';
import { type EnsureProcessResult, stopSupervised, superviseProcess } from './processes.js';
import type { ClusterPaths, ClusterRecord, MachinePaths, MachineRecord } from './state.js';
import { writeJson } from './state.js';

export interface MachineScope {
  log: Logger;
  cluster: ClusterPaths;
  clusterRecord: ClusterRecord;
  paths: MachinePaths;
  record: MachineRecord;
  identities: ClusterIdentities;
  network: ServiceNetwork;
  /** Present for control-plane machines. */
  binaries?: KubeBinaries;
}

export async function saveMachine(scope: MachineScope): Promise<void> {
  await writeJson(scope.paths.record, scope.record);
}

/** 'kubelet node' → spawn:kubelet-node; only names the crash-point table has are armed. */
function spawnPointOf(what: string): CrashPoint | undefined {
  const name = `spawn:${what.replaceAll(' ', '-')}`;
  return isCrashPoint(name) ? name : undefined;
}

/** Keeps one process of a machine running (processes.ts); its crash loop is `ProcessCrashLoop`. */
export async function ensureProcess(
  scope: MachineScope,
  slot: ProcessSlot,
  what: string,
  argv: () => string[] | Promise<string[]>,
  opts: SpawnOptions,
): Promise<EnsureProcessResult> {
  return await superviseProcess(slot, {
    ...opts,
    what: `${what} of machine ${scope.record.name}`,
    argv,
    save: () => saveMachine(scope),
    log: scope.log.child({ what }),
    crashLoopReason: 'ProcessCrashLoop',
    crashPoint: spawnPointOf(what),
  });
}

/** Stops a process of a machine without blocking a reconcile for long: call again until done. */
export async function stopProcess(
  scope: MachineScope,
  slot: ProcessSlot | undefined,
  what: string,
  graceMs = 10_000,
): Promise<Progress> {
  return await stopSupervised(slot, { what, save: () => saveMachine(scope), graceMs });
}
