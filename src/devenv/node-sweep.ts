// What a kubelet worker holds on the host and no command line names: its containers (reparented
// away from their shims), its cgroups, its pod bridge. The operator removes them when it deletes a
// cluster; when it could not (dead, or out of time), `dev down` finds each node by its folder under
// the provider's state and removes them by their names (providers/local/kubelet/host.ts).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nodePaths } from '../../providers/local/kubelet/files.js';
import {
  type HostLeftovers,
  hostLeftovers,
  nothingLeft,
  removeFromHost,
} from '../../providers/local/kubelet/host.js';

const subdirs = async (dir: string): Promise<string[]> =>
  (await readdir(dir, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name));

/** Machine folders with a `node/` in them: <state>/local/<namespace>/<cluster>/machines/<machine>. */
export async function kubeletMachineDirs(providerState: string): Promise<string[]> {
  const found: string[] = [];
  for (const namespace of await subdirs(join(providerState, 'local')))
    for (const cluster of await subdirs(namespace))
      for (const machine of await subdirs(join(cluster, 'machines')))
        if ((await subdirs(machine)).includes(join(machine, 'node'))) found.push(machine);
  return found;
}

export interface Sweep {
  /** Nodes that still held something on the host. */
  swept: number;
  /** What could not be removed, by machine folder. */
  left: { machine: string; left: HostLeftovers }[];
}

/** Removes every kubelet node's leftovers; a cgroup goes only once its processes are reaped, so retry. */
export async function sweepKubeletNodes(providerState: string): Promise<Sweep> {
  const sweep: Sweep = { swept: 0, left: [] };
  for (const machine of await kubeletMachineDirs(providerState)) {
    const paths = nodePaths({ dir: machine });
    let left = await hostLeftovers(paths);
    if (nothingLeft(left)) continue;
    sweep.swept++;
    for (let attempt = 0; attempt < 20 && !nothingLeft(left); attempt++) {
      if (attempt > 0) await sleep(100);
      left = await removeFromHost(paths);
    }
    if (!nothingLeft(left)) sweep.left.push({ machine, left });
  }
  return sweep;
}
