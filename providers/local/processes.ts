// Detached processes that outlive the operator: started once, recorded with their pid and full
// command line, adopted after an operator restart, stopped with SIGTERM then SIGKILL.
//
// A recorded process counts as ours only while its pid is alive AND /proc/<pid>/cmdline is exactly
// the recorded command line: a pid that the kernel has since given to another program is never
// signalled, and a process is never started twice. This needs Linux's /proc.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface ProcessRecord {
  pid: number;
  /** The full command line: the executable, then every argument. */
  argv: string[];
  startedAt: string;
  logPath: string;
  /** When SIGTERM was sent; SIGKILL follows once the grace period is over. */
  stopRequestedAt?: string;
  /** When the provider first found it exited without being asked (ms since the epoch). */
  exitedSeenAt?: number;
}

function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const parts = raw.split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the recorded process is running and is still the program we started. */
export function isRunning(record: ProcessRecord | undefined): boolean {
  if (!record || !Number.isInteger(record.pid) || record.pid <= 1) return false;
  if (!pidAlive(record.pid) || isZombie(record.pid)) return false;
  const actual = commandLine(record.pid);
  if (!actual || actual.length !== record.argv.length) return false;
  return actual.every((arg, i) => arg === record.argv[i]);
}

/** The environment the detached processes get: enough to run, nothing of the operator's own settings. */
export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

export interface StartOptions {
  logPath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts argv in its own session, stdout and stderr appended to logPath, and lets it go: it keeps
 * running when the operator exits. Throws when it cannot be started at all (no such file, ...).
 */
export function startDetached(argv: string[], opts: StartOptions): ProcessRecord {
  const [command, ...args] = argv;
  if (!command) throw new Error('startDetached: empty command line');
  const logFd = openSync(opts.logPath, 'a', 0o600);
  try {
    const child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: opts.cwd,
      env: opts.env ?? childEnvironment(),
    });
    // A spawn failure is reported asynchronously as well; pid tells us synchronously.
    child.once('error', () => {});
    if (child.pid === undefined) throw new Error(`cannot start ${command}`);
    child.unref();
    return { pid: child.pid, argv, startedAt: new Date().toISOString(), logPath: opts.logPath };
  } finally {
    closeSync(logFd);
  }
}

export interface StopOptions {
  /** How long after SIGTERM before SIGKILL. */
  graceMs?: number;
  /** How long this call waits for the process to go. */
  waitMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stops a recorded process: SIGTERM first; SIGKILL once graceMs have passed since the SIGTERM (that
 * moment is kept in the record, so the grace period spans calls). Waits at most waitMs. Returns
 * whether the process is gone, and the record to keep.
 */
export async function stopProcess(
  record: ProcessRecord | undefined,
  opts: StopOptions = {},
): Promise<{ stopped: boolean; record: ProcessRecord | undefined }> {
  if (!record || !isRunning(record)) return { stopped: true, record: undefined };
  const graceMs = opts.graceMs ?? 10_000;
  const waitMs = opts.waitMs ?? 3_000;
  const now = Date.now();
  const requested = record.stopRequestedAt ? Date.parse(record.stopRequestedAt) : undefined;
  const updated: ProcessRecord = {
    ...record,
    stopRequestedAt: record.stopRequestedAt ?? new Date(now).toISOString(),
  };
  try {
    process.kill(record.pid, requested !== undefined && now - requested >= graceMs ? 'SIGKILL' : 'SIGTERM');
  } catch {
    // gone in between
  }
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    if (!isRunning(record)) return { stopped: true, record: undefined };
    await sleep(50);
  }
  return { stopped: !isRunning(record), record: updated };
}
