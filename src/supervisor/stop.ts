// Stopping a recorded process: SIGTERM to its process group, SIGKILL once the grace period is over.
// The moment of the first SIGTERM is kept in the record, so that a caller that may not block (a
// reconciler) can call again and again and the grace period still spans its calls.
import { setTimeout as sleep } from 'node:timers/promises';
import { type FoundProcess, processesUnder } from './linux-proc.js';
import { livePids, type ProcessRecord } from './record.js';

/** Signals a process group (every supervised process leads one) and the pid itself. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, signal);
    } catch {
      // not a group leader, or gone
    }
  }
}

export interface StopOptions {
  /** How long after the first SIGTERM before SIGKILL. Default 10 s. */
  graceMs?: number;
  /** How long this call waits for the process to go. Default: the grace period and 5 s more. */
  waitMs?: number;
}

export interface StopResult {
  /** Whether nothing of the record runs any more. */
  stopped: boolean;
  /** What to keep recording: undefined once stopped, else the record with its stop time. */
  record: ProcessRecord | undefined;
}

/** Stops what a record started (see livePids). Never signals a pid that runs another program. */
export async function stopRecorded(
  record: ProcessRecord | undefined,
  opts: StopOptions = {},
): Promise<StopResult> {
  if (livePids(record).length === 0 || !record) return { stopped: true, record: undefined };
  const graceMs = opts.graceMs ?? 10_000;
  const waitMs = opts.waitMs ?? graceMs + 5_000;
  const updated: ProcessRecord = {
    ...record,
    stopRequestedAt: record.stopRequestedAt ?? new Date().toISOString(),
  };
  const killAt = Date.parse(updated.stopRequestedAt as string) + graceMs;
  const deadline = Date.now() + waitMs;
  let signalled: NodeJS.Signals | undefined;
  for (;;) {
    const pids = livePids(record);
    if (pids.length === 0) return { stopped: true, record: undefined };
    const signal: NodeJS.Signals = Date.now() >= killAt ? 'SIGKILL' : 'SIGTERM';
    if (signal !== signalled) {
      for (const pid of pids) signalGroup(pid, signal);
      signalled = signal;
    }
    if (Date.now() >= deadline) return { stopped: false, record: updated };
    await sleep(50);
  }
}

/**
 * Stops every process whose command line names a path under `dir` (see processesUnder): what a
 * teardown sweeps up when a record was lost. Returns what it found.
 */
export async function stopProcessesUnder(dir: string, graceMs = 5_000): Promise<FoundProcess[]> {
  const found = processesUnder(dir);
  await Promise.all(
    found.map((p) => stopRecorded({ pid: p.pid, argv: p.argv, startedAt: '', logPath: '' }, { graceMs })),
  );
  return found;
}

/** A stop function that is safe to call twice: the second call does nothing. */
export interface StopOnce {
  (): Promise<void>;
  /** Whether it has been called: what was started is stopped, or being stopped. */
  readonly stopped: boolean;
}

/**
 * Wraps the stop of what a start function started, which it calls itself when the start fails and
 * hands to its caller when it succeeds.
 */
export function stopOnce(stop: () => Promise<void>): StopOnce {
  let stopped = false;
  const once = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await stop();
  };
  return Object.defineProperty(once, 'stopped', { get: () => stopped }) as StopOnce;
}
