// The one place a supervised process is spawned: in a session (and process group) of its own, no
// stdin, stdout and stderr appended to its log file. Whether it outlives us is the caller's choice
// (detached.ts lets it go; tied.ts makes it die with us).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the program could not be started at all (no such file, ...). */
  error?: Error;
}

export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process has exited (or failed to start). Never rejects. */
  readonly exited: Promise<ExitInfo>;
  running(): boolean;
  /** SIGTERM to the process group, SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  logPath: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** How a process is started: a child that dies with us (tests), or a detached one (dev environment). */
export type Launcher = (name: string, command: string, args: string[], opts: SpawnOptions) => ProcessHandle;

export interface Spawned {
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  /** False once it has exited or failed to start. */
  running(): boolean;
}

export function spawnLogged(command: string, args: string[], opts: SpawnOptions): Spawned {
  const logFd = openSync(opts.logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: opts.cwd,
      env: opts.env ?? process.env,
    });
  } finally {
    closeSync(logFd);
  }
  let done = false;
  const exited = new Promise<ExitInfo>((resolve) => {
    // 'error' also reports a failed kill(); keep listening so that none of them goes unhandled.
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
  return { child, exited, running: () => !done && child.pid !== undefined };
}

/** The environment a detached process gets: enough to run, none of its starter's own settings. */
export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}
