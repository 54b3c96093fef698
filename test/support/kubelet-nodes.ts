// The last resort of a test's teardown for kubelet workers: whatever the operator did not remove
// of a node under a state folder (processes of its cgroup subtree, the subtree, its bridge) goes.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { nodePaths } from '../../providers/local/kubelet/files.js';
import { nothingLeft, removeFromHost } from '../../providers/local/kubelet/host.js';
import { clusterPaths, machinePaths } from '../../providers/local/state.js';

const dirs = async (path: string) =>
  (await readdir(path, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory())
    .map((e) => e.name);

/** Removes every kubelet node found under stateDir from the host; says on stderr what it had to remove. */
export async function removeNodesUnder(stateDir: string): Promise<void> {
  for (const namespace of await dirs(join(stateDir, 'local'))) {
    for (const cluster of await dirs(join(stateDir, 'local', namespace))) {
      const paths = clusterPaths(stateDir, namespace, cluster);
      for (const machine of await dirs(paths.machinesDir)) {
        const node = nodePaths(machinePaths(paths, machine));
        for (let attempt = 0; attempt < 20; attempt++) {
          const left = await removeFromHost(node);
          if (nothingLeft(left)) break;
          if (attempt === 0)
            console.error(`teardown: removing what node ${machine} left: ${JSON.stringify(left)}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    }
  }
}
