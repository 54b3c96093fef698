// What a kubelet worker holds on the host, found and removed by its names alone: the processes of
// its cgroup subtree (containerd, shims, the kubelet, every container), the subtree itself in each
// cgroup v1 hierarchy, and its pod bridge. Mounts need nothing: they live in the node's own mount
// namespace, which goes with its last process.
import { execFile } from 'node:child_process';
import { readdir, readFile, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodePaths } from './files.js';

const run = promisify(execFile);
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every cgroup hierarchy, cgroup v2's `unified` one too: the kubelet makes its folders there as well. */
async function hierarchies(): Promise<string[]> {
  const entries = await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(CGROUP_ROOT, e.name));
}

/** Every cgroup folder of the subtree, deepest first. */
async function subtree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return [];
  const below = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => subtree(join(dir, e.name))),
  );
  return [...below.flat(), dir];
}

/** The pids in the node's cgroup subtree (the pids hierarchy holds every one of them). */
export async function nodeProcesses(paths: NodePaths): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of await subtree(join(CGROUP_ROOT, 'pids', paths.cgroup))) {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line.trim()) pids.add(Number(line));
  }
  return [...pids];
}

/** The node's cgroup folders that still exist, in every hierarchy. */
export async function nodeCgroups(paths: NodePaths): Promise<string[]> {
  const found: string[] = [];
  for (const hierarchy of await hierarchies()) found.push(...(await subtree(join(hierarchy, paths.cgroup))));
  return found;
}

export async function bridgeExists(paths: NodePaths): Promise<boolean> {
  try {
    await run('ip', ['link', 'show', paths.bridge]);
    return true;
  } catch {
    return false;
  }
}

export interface HostLeftovers {
  processes: number[];
  cgroups: string[];
  bridge: boolean;
}

export async function hostLeftovers(paths: NodePaths): Promise<HostLeftovers> {
  const [processes, cgroups, bridge] = await Promise.all([
    nodeProcesses(paths),
    nodeCgroups(paths),
    bridgeExists(paths),
  ]);
  return { processes, cgroups, bridge };
}

export const nothingLeft = (left: HostLeftovers): boolean =>
  left.processes.length === 0 && left.cgroups.length === 0 && !left.bridge;

/**
 * Kills whatever still runs in the node's cgroup subtree, then removes the subtree and the bridge.
 * Returns what is left (a cgroup folder can only go once its processes are reaped): call again.
 */
export async function removeFromHost(paths: NodePaths): Promise<HostLeftovers> {
  for (const pid of await nodeProcesses(paths)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const dir of await nodeCgroups(paths)) await rmdir(dir).catch(() => undefined);
  // The parent `clusterforge` folder goes too when this was its last node.
  for (const hierarchy of await hierarchies()) {
    await rmdir(join(hierarchy, paths.cgroup.split('/')[0] as string)).catch(() => undefined);
  }
  if (await bridgeExists(paths)) await run('ip', ['link', 'delete', paths.bridge]).catch(() => undefined);
  return await hostLeftovers(paths);
}
