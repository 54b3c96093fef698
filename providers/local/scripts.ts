// The helper scripts the detached processes run (lb-process.mjs, heartbeat-process.mjs: plain
// JavaScript that Node runs without a loader; node-init.sh: bash). They are copied into the
// cluster's state folder, so a running process never depends on where (or which version of) the
// operator is installed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ClusterPaths, ensureDir, writeFileAtomic } from './state.js';

export type HelperScript = 'lb-process.mjs' | 'heartbeat-process.mjs' | 'node-init.sh';

/** Where the script ships: beside this module, or, from a build in dist/, in the source tree. */
function sourceOf(script: HelperScript): string {
  const candidates = [
    fileURLToPath(new URL(`./${script}`, import.meta.url)),
    fileURLToPath(new URL(`../../../providers/local/${script}`, import.meta.url)),
  ];
  const found = candidates.find((path) => existsSync(path));
  if (!found)
    throw new Error(`the local provider's ${script} is missing (looked in ${candidates.join(', ')})`);
  return found;
}

/** Copies the script into the cluster's bin folder (when it differs) and returns its path there. */
export async function installScript(cluster: ClusterPaths, script: HelperScript): Promise<string> {
  const target = join(cluster.binDir, script);
  const content = await readFile(sourceOf(script), 'utf8');
  const current = await readFile(target, 'utf8').catch(() => undefined);
  if (current !== content) {
    await ensureDir(cluster.binDir);
    await writeFileAtomic(target, content, 0o644);
  }
  return target;
}
