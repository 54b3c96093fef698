// The labels a worker's Node carries for its Machine, whichever kind of worker it is.
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
