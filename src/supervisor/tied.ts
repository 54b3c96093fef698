// Processes tied to this Node process: they cannot outlive it (the test harness's etcd,
// kube-apiserver and AWS emulator).
//
// How they are cleaned up, from the gentlest path to the harshest:
// 1. stop() on the handle: SIGTERM to the child's process group, SIGKILL after a grace period.
// 2. The Node process exits (process.exit, end of the event loop, or SIGINT/SIGTERM/SIGHUP handled by
//    someone, e.g. vitest, which calls process.exit): an 'exit' listener SIGKILLs every live child
//    synchronously. Our own SIGINT/SIGTERM/SIGHUP listener does the same and, when nobody else listens
//    for that signal, re-raises it so that the default behaviour (dying of it) is unchanged.
// 3. The Node process dies without running any JavaScript (SIGKILL, OOM killer, a crash): a reaper,
//    a small separate Node process in its own process group, holds the read end of a pipe from us.
//    When we die, the kernel closes our end, the reaper reads EOF, SIGKILLs every child still
//    registered (and its process group), waits until they are gone and removes the registered folders.
// Node cannot set PR_SET_PDEATHSIG on a child, hence the reaper.
//
// Each child runs in its own process group, so a terminal's Ctrl-C does not reach it directly: it
// is stopped by one of the paths above, in order (kube-apiserver before etcd).
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type ProcessHandle, type SpawnOptions, spawnLogged } from './spawn.js';

const REAPER_SOURCE = String.raw`
'use strict';
const fs = require('node:fs');
const pids = new Map();
const dirs = new Set();
let reaping = false;
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE']) process.on(s, () => {});
const hasProc = fs.existsSync('/proc/self/stat');
function alive(pid) {
  try { process.kill(pid, 0); } catch { return false; }
  if (!hasProc) return true;
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch { return false; }
}
function signal(pid, sig) {
  try { process.kill(-pid, sig); } catch {}
  try { process.kill(pid, sig); } catch {}
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function waitGone(ms) {
  const deadline = Date.now() + ms;
  while ([...pids.keys()].some(alive) && Date.now() < deadline) await sleep(50);
}
async function reap() {
  if (reaping) return;
  reaping = true;
  // Whoever started them is gone and nothing they hold is worth a graceful shutdown.
  for (const pid of pids.keys()) signal(pid, 'SIGKILL');
  await waitGone(10000);
  for (const dir of dirs) { try { fs.rmSync(dir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
}
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    let m;
    try { m = JSON.parse(line); } catch { continue; }
    if (m.op === 'pid') pids.set(m.pid, true);
    else if (m.op === 'unpid') pids.delete(m.pid);
    else if (m.op === 'dir') dirs.add(m.path);
    else if (m.op === 'undir') dirs.delete(m.path);
  }
});
process.stdin.on('end', reap);
process.stdin.on('close', reap);
process.stdin.on('error', reap);
`;

type ReaperMessage =
  | { op: 'pid'; pid: number }
  | { op: 'unpid'; pid: number }
  | { op: 'dir'; path: string }
  | { op: 'undir'; path: string };

interface ProcessRegistry {
  reaper: ChildProcess | undefined;
  live: Map<number, ChildProcess>;
  dirs: Set<string>;
  hooksInstalled: boolean;
}

// One registry per Node process, even when this module is evaluated more than once (vitest evaluates
// test modules afresh for every test file in the same worker).
const REGISTRY_KEY = Symbol.for('clusterforge.supervisor.tied');

function registry(): ProcessRegistry {
  const g = globalThis as typeof globalThis & { [REGISTRY_KEY]?: ProcessRegistry };
  let reg = g[REGISTRY_KEY];
  if (!reg) {
    reg = { reaper: undefined, live: new Map(), dirs: new Set(), hooksInstalled: false };
    g[REGISTRY_KEY] = reg;
  }
  return reg;
}

function tellReaper(message: ReaperMessage): void {
  const reg = registry();
  if (!reg.reaper || reg.reaper.exitCode !== null || reg.reaper.signalCode !== null) {
    const reaper = spawn(process.execPath, ['-e', REAPER_SOURCE], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    // Neither the reaper nor the pipe to it may keep this process alive.
    reaper.unref();
    const stdin = reaper.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null;
    stdin?.unref?.();
    reaper.stdin?.on('error', () => {});
    reg.reaper = reaper;
    // A new reaper knows nothing yet: tell it about everything that is live.
    for (const pid of reg.live.keys()) reaper.stdin?.write(`${JSON.stringify({ op: 'pid', pid })}\n`);
    for (const path of reg.dirs) reaper.stdin?.write(`${JSON.stringify({ op: 'dir', path })}\n`);
  }
  reg.reaper.stdin?.write(`${JSON.stringify(message)}\n`);
}

function killGroupSync(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function killAllSync(): void {
  const reg = registry();
  for (const pid of reg.live.keys()) killGroupSync(pid, 'SIGKILL');
  // The folders are removed by the reaper once the processes are really gone.
}

function installHooks(): void {
  const reg = registry();
  if (reg.hooksInstalled) return;
  reg.hooksInstalled = true;
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllSync();
      if (process.listenerCount(sig) === 1) {
        // Nobody else handles it: behave as if we had not been listening.
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

/** Registers a folder that the reaper removes if this process dies without cleaning up. */
export function guardDir(path: string): void {
  registry().dirs.add(path);
  tellReaper({ op: 'dir', path });
}

/** Removes a folder now and forgets it. */
export function removeGuardedDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
  registry().dirs.delete(path);
  tellReaper({ op: 'undir', path });
}

/**
 * Starts a command in its own process group, stdout and stderr appended to its log, registered
 * with the exit hooks and the reaper.
 */
export function spawnTied(name: string, command: string, args: string[], opts: SpawnOptions): ProcessHandle {
  installHooks();
  const reg = registry();
  const { child, exited, running } = spawnLogged(command, args, opts);
  const pid = child.pid;
  if (pid !== undefined) {
    reg.live.set(pid, child);
    tellReaper({ op: 'pid', pid });
    void exited.then(() => {
      reg.live.delete(pid);
      tellReaper({ op: 'unpid', pid });
    });
  }
  return {
    name,
    pid: pid ?? -1,
    logPath: opts.logPath,
    exited,
    running,
    async stop(graceMs = 5000): Promise<void> {
      if (!running() || pid === undefined) {
        await exited;
        return;
      }
      killGroupSync(pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const result = await Promise.race([exited, graceOver]);
      clearTimeout(timer);
      if (result === 'timeout') {
        killGroupSync(pid, 'SIGKILL');
        await exited;
      }
      // Whatever else is left in its group (there should be nothing).
      killGroupSync(pid, 'SIGKILL');
    },
  };
}
