// What one provider call about one machine works with: its folders, its record, the cluster's.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Progress } from '../../src/provider/contract.js';
import { failed } from '../../src/provider/contract.js';
import type { KubeBinaries } from './binaries.js';
import type { ClusterIdentities, ServiceNetwork } from './certificates.js';
import { isRunning, type ProcessRecord, type StartOptions, startDetached } from './processes.js';
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
export interface ManagedProcess {
  process?: ProcessRecord;
  crashes?: number;
}

/** After this many unasked exits in a row, a part is reported failed instead of restarted again. */
const MAX_CRASHES = 5;
/** How long a process in a crash loop waits before the next start. */
const CRASH_LOOP_BACKOFF_MS = 30_000;

async function logTail(path: string, lines = 3): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trimEnd();
    return text.split('\n').slice(-lines).join('\n').slice(-1500);
  } catch {
    return '(no log)';
  }
}

export type EnsureProcessResult = { running: true } | { running: false; progress: Progress };

/**
 * Keeps one process of a machine running: adopts it when the recorded one is alive and ours,
 * starts it otherwise (after counting an unasked exit). Never starts a second copy.
 */
export async function ensureProcess(
  scope: MachineScope,
  slot: ManagedProcess,
  what: string,
  argv: () => string[] | Promise<string[]>,
  opts: StartOptions,
): Promise<EnsureProcessResult & { started?: boolean }> {
  if (isRunning(slot.process)) return { running: true };
  if (slot.process && !slot.process.stopRequestedAt) {
    slot.process.exitedSeenAt ??= Date.now();
    const crashLoopMessage = async () =>
      `${what} of machine ${scope.record.name} exited ${MAX_CRASHES} times in a row; retrying every ${CRASH_LOOP_BACKOFF_MS / 1000} s; last lines of ${opts.logPath}:\n${await logTail(opts.logPath)}`;
    if ((slot.crashes ?? 0) >= MAX_CRASHES) {
      // Like a kubelet's CrashLoopBackOff: start again only once the back-off has passed, and keep
      // the report the same in between, so that the Machine's status (and with it the watch that
      // requeues us) does not change on every look.
      if (Date.now() - slot.process.exitedSeenAt < CRASH_LOOP_BACKOFF_MS) {
        await saveMachine(scope);
        return { running: false, progress: failed('ProcessCrashLoop', await crashLoopMessage()) };
      }
      scope.log.warn(
        { machine: scope.record.name, what, pid: slot.process.pid },
        'restarting after crash-loop back-off',
      );
    } else {
      slot.crashes = (slot.crashes ?? 0) + 1;
      scope.log.warn(
        { machine: scope.record.name, what, pid: slot.process.pid, crashes: slot.crashes },
        'process exited',
      );
      if (slot.crashes >= MAX_CRASHES) {
        await saveMachine(scope);
        return { running: false, progress: failed('ProcessCrashLoop', await crashLoopMessage()) };
      }
    }
  }
  slot.process = startDetached(await argv(), opts);
  await saveMachine(scope);
  scope.log.info({ machine: scope.record.name, what, pid: slot.process.pid }, 'process started');
  return { running: true, started: true };
}
