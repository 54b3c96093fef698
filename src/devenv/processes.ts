// Processes of a local Kubernetes environment (etcd, kube-apiserver, the operator): what the test
// harness and the dev environment share.
//
// - ProcessHandle: what waiting for readiness needs of a started process (is it still running, how did
//   it end, where is its log). The test harness's supervised children (test/env/processes.ts) and the
//   dev environment's detached processes (spawnDetached below) both are one.
// - Detached processes outlive whoever started them. They are recorded with their pid and their full
//   command line, and a recorded process counts as running only while its pid is alive AND
//   /proc/<pid>/cmdline is exactly the recorded command line: a pid that the kernel has since given to
//   another program is never signalled, never adopted. This needs Linux's /proc.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited (or failed to start). Never rejects. */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** SIGTERM (to the process group), SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** How a process is started: a test child that dies with the test, or a detached one. */
export type Launcher = (
  name: string,
  command: string,
  args: string[],
  opts: { logPath: string; cwd?: string; env?: NodeJS.ProcessEnv },
) => ProcessHandle;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { freePort } from '../net/ports.js';

import { freePort } from '../net/ports.js';

/** Distinct free ports (a port is not handed out twice by one call). */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

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
  let lastError = '';
  for (;;) {
    if (!opts.process.running()) {
      const info = await opts.process.exited;
      const how = info.error
        ? `could not be started: ${info.error.message}`
        : `exited (code ${info.code}, signal ${info.signal})`;
      throw new Error(
        `${opts.what}: ${opts.process.name} ${how} before it was ready.\n` +
          `--- last lines of ${opts.process.logPath} ---\n${tailFile(opts.process.logPath)}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${opts.what}: ${opts.process.name} not ready after ${opts.timeoutMs} ms` +
          `${lastError ? ` (last probe error: ${lastError})` : ''}.\n` +
          `--- last lines of ${opts.process.logPath} ---\n${tailFile(opts.process.logPath)}`,
      );
    }
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Whether the log of a process that ended says its port was taken (worth a retry on another one). */
export function portInUse(proc: ProcessHandle): boolean {
  return /address already in use/i.test(tailFile(proc.logPath, 60));
}

// ---------------------------------------------------------------------------------------------------
// Recorded, detached processes

export interface ProcessRecord {
  pid: number;
  /** The full command line: the executable, then every argument. */
  argv: string[];
  startedAt: string;
  logPath: string;
}

/** /proc/<pid>/cmdline as a list, or undefined when there is no such process. */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const parts = raw.split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

function statField(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Whether a pid is alive (a zombie is not). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = statField(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Whether the recorded process is running and is still the program that was started. */
export function isRunning(record: ProcessRecord | undefined): boolean {
  if (!record || !Number.isInteger(record.pid) || record.pid <= 1) return false;
  if (!pidAlive(record.pid)) return false;
  const actual = commandLineOf(record.pid);
  if (!actual || actual.length !== record.argv.length) return false;
  return actual.every((arg, i) => arg === record.argv[i]);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // not a group leader, or gone
  }
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

export interface DetachedProcess extends ProcessHandle {
  readonly record: ProcessRecord;
}

/**
 * Starts a command in a session of its own, stdout and stderr appended to logPath, and lets it go: it
 * keeps running when this Node process exits. While we live, the handle still reports its exit.
 */
export function spawnDetached(
  name: string,
  command: string,
  args: string[],
  opts: { logPath: string; cwd?: string; env?: NodeJS.ProcessEnv },
): DetachedProcess {
  const logFd = openSync(opts.logPath, 'a', 0o600);
  const child = (() => {
    try {
      return spawn(command, args, {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        cwd: opts.cwd,
        env: opts.env ?? process.env,
      });
    } finally {
      closeSync(logFd);
    }
  })();
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('error', (error) => {
      if (child.pid === undefined && !done) {
        done = true;
        resolve({ code: null, signal: null, error });
      }
    });
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  child.unref();
  const record: ProcessRecord = {
    pid: child.pid ?? -1,
    argv: [command, ...args],
    startedAt: new Date().toISOString(),
    logPath: opts.logPath,
  };
  return {
    name,
    pid: record.pid,
    logPath: opts.logPath,
    record,
    exited,
    running: () => !done && child.pid !== undefined,
    stop: async (graceMs = 10_000) => {
      await stopRecorded(record, { graceMs });
    },
  };
}

/**
 * Stops a recorded process (and its process group): SIGTERM, then SIGKILL after graceMs. Does nothing
 * to a pid that is no longer the recorded program. Resolves once it is gone.
 */
export async function stopRecorded(
  record: ProcessRecord | undefined,
  opts: { graceMs?: number } = {},
): Promise<void> {
  if (!record || !isRunning(record)) return;
  signalGroup(record.pid, 'SIGTERM');
  const deadline = Date.now() + (opts.graceMs ?? 10_000);
  while (isRunning(record)) {
    if (Date.now() > deadline) {
      signalGroup(record.pid, 'SIGKILL');
      const killDeadline = Date.now() + 5_000;
      while (isRunning(record) && Date.now() < killDeadline) await sleep(50);
      return;
    }
    await sleep(50);
  }
}

/** A handle on a process recorded earlier (by another run of the CLI): no exit code, only its state. */
export function adoptedHandle(name: string, record: ProcessRecord): ProcessHandle {
  let exited: Promise<ExitInfo> | undefined;
  return {
    name,
    pid: record.pid,
    logPath: record.logPath,
    // Polled only when asked for, on timers that never keep this process alive.
    get exited(): Promise<ExitInfo> {
      exited ??= new Promise<ExitInfo>((resolve) => {
        const timer = setInterval(() => {
          if (isRunning(record)) return;
          clearInterval(timer);
          resolve({ code: null, signal: null });
        }, 200);
        timer.unref();
      });
      return exited;
    },
    running: () => isRunning(record),
    stop: (graceMs?: number) => stopRecorded(record, graceMs === undefined ? {} : { graceMs }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Finding processes by what their command line mentions

export interface FoundProcess {
  pid: number;
  argv: string[];
}

/** This process and its ancestors: never to be signalled by a sweep. */
function selfAndAncestors(): Set<number> {
  const pids = new Set<number>([process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1 && !pids.has(pid); i++) {
    pids.add(pid);
    pid = statField(pid)?.ppid ?? 0;
  }
  return pids;
}

/**
 * Live processes one of whose arguments is `dir`, lies under `dir/`, or ends in `=dir` / `=dir/...`
 * (so /x/dev does not match /x/dev2). This process and its ancestors are left out.
 */
export function processesUnder(dir: string): FoundProcess[] {
  const clean = dir.replace(/\/+$/, '');
  const mentions = (arg: string): boolean =>
    arg === clean ||
    arg.startsWith(`${clean}/`) ||
    arg.includes(`=${clean}/`) ||
    arg.endsWith(`=${clean}`) ||
    arg.includes(` ${clean}/`);
  const skip = selfAndAncestors();
  const found: FoundProcess[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (skip.has(pid)) continue;
    const argv = commandLineOf(pid);
    if (!argv || argv.length === 0 || !pidAlive(pid)) continue;
    if (argv.some(mentions)) found.push({ pid, argv });
  }
  return found;
}

/**
 * Stops every process under `dir` (see processesUnder): SIGTERM, then SIGKILL after graceMs. A pid is
 * signalled only while its command line is the one that was found. Returns what was found.
 */
export async function stopProcessesUnder(dir: string, graceMs = 5_000): Promise<FoundProcess[]> {
  const found = processesUnder(dir);
  const records = found.map((p) => ({ pid: p.pid, argv: p.argv, startedAt: '', logPath: '' }));
  await Promise.all(records.map((r) => stopRecorded(r, { graceMs })));
  return found;
}
