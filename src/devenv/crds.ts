// The CRDs, applied to the management cluster with kubectl (client-node's typed serializer drops
// their x-kubernetes-* keys), and waited on until they are served.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageRoot } from './assets.js';
import { kubectl, kubectlOk } from './kubectl.js';
import { FIELD_MANAGER } from './objects.js';
import type { DevPaths } from './state.js';

/** Applies crds/*.yaml; resolves with their number once they are served. */
export async function installCRDs(paths: DevPaths, timeoutMs: number): Promise<number> {
  const crds = join(packageRoot, 'crds');
  await kubectlOk(paths.kubeconfig, [
    'apply',
    '--server-side',
    '--force-conflicts',
    `--field-manager=${FIELD_MANAGER}`,
    '-f',
    crds,
  ]);
  await kubectlOk(paths.kubeconfig, [
    'wait',
    '--for=condition=Established',
    `--timeout=${Math.ceil(timeoutMs / 1000)}s`,
    '-f',
    crds,
  ]);
  // Established is not yet servable: the storage of a new CRD answers 429 for a moment.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = await kubectl(paths.kubeconfig, ['get', 'clusterforge', '--all-namespaces']);
    if (listed.code === 0) break;
    if (Date.now() > deadline) throw new Error(`the CRDs are not served: ${listed.stderr.trim()}`);
    await sleep(200);
  }
  return readdirSync(crds).filter((f) => f.endsWith('.yaml')).length;
}
