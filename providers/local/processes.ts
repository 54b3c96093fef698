// The provider's processes as its reports see them: keepRunning and stopRecorded (src/supervisor/)
// with their outcomes turned into Progress. A machine's processes (scope.ts) and the cluster's load
// balancer (loadbalancer.ts) all go through here.
import type { Logger } from 'pino';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import {
  childEnvironment,
  type KeepRunningOptions,
  keepRunning,
  type ProcessSlot,
  stopRecorded,
} from '../../src/supervisor/index.js';

export type EnsureProcessResult =
  | { running: true; started?: boolean }
  | { running: false; progress: Progress };

export interface SuperviseOptions extends KeepRunningOptions {
  /** Bound to what the process is (the caller's child logger); told when it is started or adopted. */
  log: Logger;
  /** The reason a crash loop is reported with: `failed(crashLoopReason, ...)`. */
  crashLoopReason: string;
}

/**
 * Keeps one process running: adopts it when the recorded one (or one with its command line) is
 * alive, starts it otherwise. Never starts a second copy (src/supervisor/keep-running.ts).
 */
export async function superviseProcess(
  slot: ProcessSlot,
  opts: SuperviseOptions,
): Promise<EnsureProcessResult> {
  const result = await keepRunning(slot, { ...opts, env: opts.env ?? childEnvironment() });
  const fields = { pid: slot.process?.pid, crashes: slot.crashes };
  switch (result.state) {
    case 'crash-loop':
      return { running: false, progress: failed(opts.crashLoopReason, result.message) };
    case 'started':
      opts.log.info(fields, slot.crashes ? 'process started again after it exited' : 'process started');
      return { running: true, started: true };
    case 'running':
      if (result.adopted) opts.log.info(fields, 'adopted a process whose start was not recorded');
      return { running: true };
  }
}

export interface StopSupervisedOptions {
  /** For the report: "waiting for <what> to stop". */
  what: string;
  /** Persists the slot once the stop has been asked for (the grace period spans calls). */
  save: () => Promise<void>;
  /** SIGKILL once this long has passed since the SIGTERM. */
  graceMs: number;
}

/** Stops a process without blocking a reconcile for long (3 s at most): call again until done. */
export async function stopSupervised(
  slot: ProcessSlot | undefined,
  opts: StopSupervisedOptions,
): Promise<Progress> {
  if (!slot?.process) return done();
  const result = await stopRecorded(slot.process, { graceMs: opts.graceMs, waitMs: 3_000 });
  slot.process = result.record;
  await opts.save();
  return result.stopped ? done() : inProgress(`waiting for ${opts.what} to stop`, 1_000);
}
