// Waiting for a started process to be ready, with an error that says why it is not.
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessHandle } from './spawn.js';

/** The last lines of a log file, or a note that there is none. */
export function tailFile(path: string, lines = 40): string {
  if (!existsSync(path)) return `(no log at ${path})`;
  const text = readFileSync(path, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

export interface WaitReadyOptions {
  /** What is being waited for, for the error message. */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** The process whose early exit ends the wait with an error. */
  process: ProcessHandle;
}

/**
 * Polls probe() until it returns true. Fails with a clear error, carrying the tail of the process's
 * log, when the process exits first or the time runs out.
 */
export async function waitReady(probe: () => Promise<boolean>, opts: WaitReadyOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const logTail = () => `--- last lines of ${opts.process.logPath} ---\n${tailFile(opts.process.logPath)}`;
  let lastError = '';
  for (;;) {
    if (!opts.process.running()) {
      const info = await opts.process.exited;
      const how = info.error
        ? `could not be started: ${info.error.message}`
        : `exited (code ${info.code}, signal ${info.signal})`;
      throw new Error(`${opts.what}: ${opts.process.name} ${how} before it was ready.\n${logTail()}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const probeError = lastError ? ` (last probe error: ${lastError})` : '';
      throw new Error(
        `${opts.what}: ${opts.process.name} not ready after ${opts.timeoutMs} ms${probeError}.\n${logTail()}`,
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Whether the log of a process that ended says its port was taken (worth a retry on another one). */
export function portInUse(proc: ProcessHandle): boolean {
  return /address already in use/i.test(tailFile(proc.logPath, 60));
}
