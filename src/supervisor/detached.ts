// Detached processes outlive whoever started them (the dev environment's etcd, kube-apiserver and
// operator; the local provider's machines). They are known by their record (record.ts): a handle
// here is only what this run of the program can say about one.
import { setTimeout as sleep } from 'node:timers/promises';
import { isRunning, type ProcessRecord } from './record.js';
import { type ExitInfo, type ProcessHandle, type SpawnOptions, spawnLogged } from './spawn.js';
import { stopRecorded } from './stop.js';

export interface DetachedProcess extends ProcessHandle {
  readonly record: ProcessRecord & { pid: number };
}

/**
 * Starts argv detached and lets it go: it keeps running when this Node process exits. While we
 * live, the handle still reports its exit. Throws when it cannot be started at all.
 */
export function startDetached(name: string, argv: string[], opts: SpawnOptions): DetachedProcess {
  const [command, ...args] = argv;
  if (!command) throw new Error(`${name}: empty command line`);
  const spawned = spawnLogged(command, args, opts);
  spawned.child.unref();
  const pid = spawned.child.pid;
  if (pid === undefined) throw new Error(`${name}: cannot start ${command}`);
  const record = { pid, argv, startedAt: new Date().toISOString(), logPath: opts.logPath };
  return {
    name,
    pid,
    logPath: opts.logPath,
    record,
    exited: spawned.exited,
    running: spawned.running,
    stop: async (graceMs = 10_000) => {
      await stopRecorded(record, { graceMs });
    },
  };
}

/** A handle on a process recorded by an earlier run: no exit code, only whether it still runs. */
export function adoptedHandle(name: string, record: ProcessRecord): ProcessHandle {
  let exited: Promise<ExitInfo> | undefined;
  return {
    name,
    pid: record.pid ?? -1,
    logPath: record.logPath,
    // Polled only when asked for, on timers that never keep this process alive.
    get exited(): Promise<ExitInfo> {
      exited ??= (async () => {
        while (isRunning(record)) await sleep(200, undefined, { ref: false });
        return { code: null, signal: null };
      })();
      return exited;
    },
    running: () => isRunning(record),
    stop: async (graceMs?: number) => {
      await stopRecorded(record, graceMs === undefined ? {} : { graceMs });
    },
  };
}
