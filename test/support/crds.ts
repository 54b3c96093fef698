// Installs the checked-in CRDs into a test API server, as a user would: kubectl apply --server-side.
// (client-node's typed serializer drops the x-kubernetes-* keys it has no model field for, so the
// CRDs are not sent through it.)
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { kubectl, testKubeconfigPath } from './kube.js';

const crdDir = fileURLToPath(new URL('../../crds/', import.meta.url));

export async function installCRDs(_kc?: KubeConfig, kubeconfigPath = testKubeconfigPath()): Promise<void> {
  const applied = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', crdDir], {
    kubeconfigPath,
  });
  if (applied.code !== 0) throw new Error(`kubectl apply of crds/ failed: ${applied.stderr}`);
  const established = await kubectl(['wait', '--for=condition=Established', '--timeout=30s', '-f', crdDir], {
    kubeconfigPath,
  });
  if (established.code !== 0) throw new Error(`CRDs not Established: ${established.stderr}`);
  // Established is not yet servable: the storage of a new CRD answers 429 for a moment.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const listed = await kubectl(['get', 'clusterforge', '--all-namespaces'], { kubeconfigPath });
    if (listed.code === 0) return;
    if (Date.now() > deadline) throw new Error(`CRDs not servable after 30 s: ${listed.stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
