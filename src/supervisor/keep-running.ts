// Keeping one detached process running from code that may not block and may crash at any line (a
// reconciler): each call adopts what runs, or takes the next step to start it, and says which.
import { readFile } from 'node:fs/promises';
import { type CrashPoint, crashPoint } from '../crash/points.js';
import { startDetached } from './detached.js';
import { livePids, type ProcessRecord } from './record.js';
import type { SpawnOptions } from './spawn.js';
import { signalGroup } from './stop.js';

/** Where a caller keeps one process: its record, and how often it died without being asked to. */
export interface ProcessSlot {
  process?: ProcessRecord;
  crashes?: number;
}

export interface KeepRunningOptions extends SpawnOptions {
  /** For messages: "etcd of machine m-1". */
  what: string;
  /** The command line to start; asked only when a start is due. */
  argv: () => string[] | Promise<string[]>;
  /** Persists the slot. Called before the spawn and after it: a crash between them is adopted later. */
  save: () => Promise<void>;
  /** After this many unasked exits in a row, starts wait for the back-off. Default 5. */
  maxCrashes?: number;
  /** How long a process in a crash loop waits before its next start. Default 30 s. */
  crashLoopBackoffMs?: number;
  /** The test-only crash point right after the spawn, before its pid is saved (src/crash/points.ts). */
  crashPoint?: CrashPoint;
}

export type KeepRunningResult =
  | { state: 'running'; adopted: boolean }
  | { state: 'started'; pid: number }
  | { state: 'crash-loop'; message: string };

async function logTail(path: string, lines = 3): Promise<string> {
  try {
    const text = (await readFile(path, 'utf8')).trimEnd();
    return text.split('\n').slice(-lines).join('\n').slice(-1500);
  } catch {
    return '(no log)';
  }
}

/** Never starts a second copy: a process with the recorded command line is adopted instead. */
export async function keepRunning(slot: ProcessSlot, opts: KeepRunningOptions): Promise<KeepRunningResult> {
  const recorded = slot.process;
  const pids = livePids(recorded);
  if (recorded && pids.length > 0) {
    const [pid, ...extra] = pids as [number, ...number[]];
    // More than one copy can only come from an earlier bug; keep one, the one recorded if it runs.
    for (const other of extra) signalGroup(other, 'SIGKILL');
    if (recorded.pid === pid) return { state: 'running', adopted: false };
    slot.process = { ...recorded, pid };
    await opts.save();
    return { state: 'running', adopted: true };
  }
  // A record with a pid that does not run any more, and that nobody asked to stop: it crashed. A
  // record without a pid is a start that never got as far as a process: not a crash.
  if (recorded?.pid !== undefined && !recorded.stopRequestedAt) {
    const maxCrashes = opts.maxCrashes ?? 5;
    const backoffMs = opts.crashLoopBackoffMs ?? 30_000;
    recorded.exitedSeenAt ??= Date.now();
    const crashLoop = async (): Promise<KeepRunningResult> => ({
      state: 'crash-loop',
      message: `${opts.what} exited ${maxCrashes} times in a row; retrying every ${backoffMs / 1000} s; last lines of ${opts.logPath}:\n${await logTail(opts.logPath)}`,
    });
    if ((slot.crashes ?? 0) >= maxCrashes) {
      // Like a kubelet's CrashLoopBackOff: start again only once the back-off has passed, and say
      // the same thing in between, so that what the caller reports does not change on every look.
      if (Date.now() - recorded.exitedSeenAt < backoffMs) {
        await opts.save();
        return crashLoop();
      }
    } else {
      slot.crashes = (slot.crashes ?? 0) + 1;
      if (slot.crashes >= maxCrashes) {
        await opts.save();
        return crashLoop();
      }
    }
  }
  const argv = await opts.argv();
  slot.process = { argv, startedAt: new Date().toISOString(), logPath: opts.logPath };
  await opts.save();
  const started = startDetached(opts.what, argv, opts);
  if (opts.crashPoint) crashPoint(opts.crashPoint);
  slot.process = started.record;
  await opts.save();
  return { state: 'started', pid: started.pid };
}

/** Forgets the unasked exits once the process has proved itself (it is ready). */
export function crashesForgiven(slot: ProcessSlot): boolean {
  if (!slot.crashes) return false;
  slot.crashes = 0;
  return true;
}
