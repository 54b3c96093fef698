// A process as the supervisor records it: what was (or is about to be) started, and by which pid.
//
// The record is written before the spawn, with no pid, and again with the pid after it. A crash in
// between leaves a record without a pid; the process it may have started is then found by its exact
// command line (each supervised command line names its own state folder, so it is unique). Either
// way a restarted supervisor adopts what runs instead of starting a second copy.
import { processesRunning, runsCommandLine } from './linux-proc.js';

export interface ProcessRecord {
  /** Absent between "about to spawn" and "spawned". */
  pid?: number;
  /** The full command line: the executable, then every argument. */
  argv: string[];
  startedAt: string;
  logPath: string;
  /** When SIGTERM was first sent; SIGKILL follows once the grace period is over, across calls. */
  stopRequestedAt?: string;
  /** When the supervisor first found it exited without being asked (ms since the epoch). */
  exitedSeenAt?: number;
}

/** Whether the recorded pid is alive and still runs the recorded command line. */
export function isRunning(record: ProcessRecord | undefined): boolean {
  return record?.pid !== undefined && runsCommandLine(record.pid, record.argv);
}

/**
 * The pids that run the recorded command line: the recorded pid when it does, else any process
 * with exactly that command line (started by a run that crashed before it recorded the pid).
 */
export function livePids(record: ProcessRecord | undefined): number[] {
  if (!record) return [];
  if (isRunning(record)) return [record.pid as number];
  return processesRunning(record.argv).map((p) => p.pid);
}
