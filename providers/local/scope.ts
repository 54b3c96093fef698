// What one provider call about one machine works with: its folders, its record, the cluster's.
import type { Logger } from 'pino';
import type { Progress } from '../../src/provider/contract.js';
import { failed } from '../../src/provider/contract.js';
import {
  childEnvironment,
  keepRunning,
  type ProcessRecord,
  type ProcessSlot,
  type SpawnOptions,
  stopRecorded,
} from '../../src/supervisor/index.js';
import type { KubeBinaries } from './binaries.js';
import type { ClusterIdentities, ServiceNetwork } from './certificates.js';
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

/** A process slot in a machine record: the process, and how often it died without being asked to. */
export type ManagedProcess = ProcessSlot;

export type EnsureProcessResult = { running: true } | { running: false; progress: Progress };

/**
 * Keeps one process of a machine running: adopts it when the recorded one (or one with its command
 * line) is alive, starts it otherwise. Never starts a second copy (src/supervisor/keep-running.ts).
 */
export async function ensureProcess(
  scope: MachineScope,
  slot: ManagedProcess,
  what: string,
  argv: () => string[] | Promise<string[]>,
  opts: SpawnOptions,
): Promise<EnsureProcessResult & { started?: boolean }> {
  const result = await keepRunning(slot, {
    ...opts,
    env: opts.env ?? childEnvironment(),
    what: `${what} of machine ${scope.record.name}`,
    argv,
    save: () => saveMachine(scope),
  });
  const fields = { machine: scope.record.name, what, pid: slot.process?.pid, crashes: slot.crashes };
  switch (result.state) {
    case 'crash-loop':
      return { running: false, progress: failed('ProcessCrashLoop', result.message) };
    case 'started':
      scope.log.info(fields, slot.crashes ? 'process started again after it exited' : 'process started');
      return { running: true, started: true };
    case 'running':
      if (result.adopted) scope.log.info(fields, 'adopted a process whose start was not recorded');
      return { running: true };
  }
}

/** Stops a process of a machine without blocking a reconcile for long: call again until stopped. */
export function stopPart(record: ProcessRecord | undefined, graceMs = 10_000) {
  return stopRecorded(record, { graceMs, waitMs: 3_000 });
}
