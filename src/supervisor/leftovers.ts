// What a process leaves on the host besides itself: mounts, cgroups, network devices, sockets and
// folders. The code that makes one names it as a Leftover; the same list is what teardown removes
// and what a test counts. Removal is idempotent: what is already gone is skipped.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { signalGroup } from './stop.js';

const run = promisify(execFile);

export type Leftover =
  /** A mount point, and every mount below it. */
  | { kind: 'mount'; path: string }
  /** A cgroup, by its path below each hierarchy's root (cgroup v1: one folder per controller). */
  | { kind: 'cgroup'; path: string }
  /** A network device in the host's namespace (a bridge, a veth end). */
  | { kind: 'netdev'; name: string }
  /** A socket or folder on disk. */
  | { kind: 'path'; path: string };

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Mount points at or below path, deepest first (from /proc/self/mountinfo). */
function mountsUnder(path: string): string[] {
  const clean = path.replace(/\/+$/, '');
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    // mountinfo escapes blanks as octal
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8))))
    .filter((p) => p === clean || p.startsWith(`${clean}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The folders of a cgroup in every hierarchy that has it (v1 has several, v2 one). */
function cgroupDirs(path: string): string[] {
  const rel = path.replace(/^\/+/, '');
  if (!rel) throw new Error('a cgroup leftover needs a path below the root');
  const roots = existsSync(join(CGROUP_ROOT, 'cgroup.procs'))
    ? [CGROUP_ROOT]
    : readdirSync(CGROUP_ROOT).map((d) => join(CGROUP_ROOT, d));
  return roots.map((root) => join(root, rel)).filter((dir) => existsSync(dir));
}

/** A cgroup folder and every folder below it, deepest first. */
function cgroupTree(dir: string): string[] {
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => cgroupTree(join(dir, e.name)));
  return [...below, dir];
}

function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function removeCgroup(path: string): Promise<void> {
  for (const top of cgroupDirs(path)) {
    for (const dir of cgroupTree(top)) {
      // A cgroup with a process in it cannot be removed: the process is a leftover too.
      for (let i = 0; i < 100 && cgroupPids(dir).length > 0; i++) {
        for (const pid of cgroupPids(dir)) signalGroup(pid, 'SIGKILL');
        await sleep(20);
      }
      rmdirSync(dir);
    }
  }
}

/** Whether a leftover is still there. */
export function present(item: Leftover): boolean {
  switch (item.kind) {
    case 'mount':
      return mountsUnder(item.path).length > 0;
    case 'cgroup':
      return cgroupDirs(item.path).length > 0;
    case 'netdev':
      return existsSync(`/sys/class/net/${item.name}`);
    case 'path':
      try {
        statSync(item.path);
        return true;
      } catch {
        return false;
      }
  }
}

/**
 * Removes the leftovers that are there: mounts first (a folder cannot go while mounted), then
 * cgroups, network devices and paths. Returns what it removed.
 */
export async function removeLeftovers(items: readonly Leftover[]): Promise<Leftover[]> {
  const order = { mount: 0, cgroup: 1, netdev: 2, path: 3 } as const;
  const removed: Leftover[] = [];
  for (const item of [...items].sort((a, b) => order[a.kind] - order[b.kind])) {
    if (!present(item)) continue;
    switch (item.kind) {
      case 'mount':
        // Lazily: a mount still in use by a dying process must not keep the rest from going.
        for (const point of mountsUnder(item.path)) await run('umount', ['-l', point]);
        break;
      case 'cgroup':
        await removeCgroup(item.path);
        break;
      case 'netdev':
        await run('ip', ['link', 'delete', item.name]);
        break;
      case 'path':
        rmSync(item.path, { recursive: true, force: true });
        break;
    }
    removed.push(item);
  }
  return removed;
}
