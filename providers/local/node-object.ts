// A worker's Node object, whichever kind of worker made it: the labels it carries for its Machine,
// whether it is Ready, and its removal (only a Node that is this machine's).
import { ApiException, type CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { CLUSTER_NAME_LABEL } from '../../src/api/v1alpha1/index.js';

/** Machine label prefixes copied onto the Node (as Cluster API syncs them). */
const SYNCED_LABEL_PREFIXES = [
  'node-role.kubernetes.io/',
  'node-restriction.kubernetes.io/',
  'node.cluster.x-k8s.io/',
];

/** The cluster-name label, and the Machine's labels under the synced prefixes. */
export function syncedLabels(
  clusterName: string,
  machineLabels: Record<string, string>,
): Record<string, string> {
  const labels: Record<string, string> = { [CLUSTER_NAME_LABEL]: clusterName };
  for (const [key, value] of Object.entries(machineLabels)) {
    if (SYNCED_LABEL_PREFIXES.some((p) => key.startsWith(p))) labels[key] = value;
  }
  return labels;
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;

export const nodeReady = (node: V1Node): boolean =>
  node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** Deletes the Node `name` when its providerID is this machine's: a Node someone else made stays. */
export async function deleteOwnNode(core: CoreV1Api, name: string, providerID: string): Promise<void> {
  try {
    const node = await core.readNode({ name });
    if (node.spec?.providerID === providerID) await core.deleteNode({ name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
