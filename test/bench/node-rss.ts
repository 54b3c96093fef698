// The memory of the kubelet workers on this host: each node's cgroup subtree
// (/sys/fs/cgroup/pids/clusterforge/<id>) holds its containerd, shims, kubelet and containers.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

const NODES = '/sys/fs/cgroup/pids/clusterforge';

async function pidsBelow(dir: string): Promise<number[]> {
  const own = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map(Number);
  const subdirs = (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) =>
    e.isDirectory(),
  );
  const below = await Promise.all(subdirs.map((e) => pidsBelow(join(dir, e.name))));
  return [...own, ...below.flat()];
}

async function rssKiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

/** Resident memory per kubelet node on this host, in MiB (one entry per node). */
export async function nodeRssMiB(): Promise<number[]> {
  const nodes = (await readdir(NODES, { withFileTypes: true }).catch(() => [])).filter((e) =>
    e.isDirectory(),
  );
  const sizes: number[] = [];
  for (const node of nodes) {
    const pids = await pidsBelow(join(NODES, node.name));
    const kib = (await Promise.all(pids.map(rssKiB))).reduce((a, b) => a + b, 0);
    sizes.push(kib / 1024);
  }
  return sizes;
}
