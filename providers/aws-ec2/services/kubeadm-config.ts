// kubeadm keeps the cluster-wide configuration in the workload cluster, in the ConfigMap
// kube-system/kubeadm-config (key ClusterConfiguration), and `kubeadm join --control-plane` reads it
// from there: a joining control-plane machine runs the control-plane components at the
// `kubernetesVersion` it finds, whatever version its own kubeadm and kubelet are. So before the first
// control-plane machine of a new version is launched, that field is set to the new version, as
// Cluster API's KubeadmControlPlane does before a rollout. The operator writes it through the
// workload cluster's API (the load balancer), as the cluster's admin.
import { parseDocument } from 'yaml';
import { isNotFound } from '../../../src/runtime/errors.js';
import { type KubeClient, resourcePath } from '../../../src/runtime/transport.js';

const CONFIG_MAPS = { group: '', version: 'v1', plural: 'configmaps' };
export const KUBEADM_CONFIG_MAP = { namespace: 'kube-system', name: 'kubeadm-config' };

interface ConfigMap {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

/**
 * Sets `kubernetesVersion` of the ClusterConfiguration in kube-system/kubeadm-config to `version`.
 * Returns what it found: 'updated', 'current', or 'missing' (no kubeadm-config yet: `kubeadm init`
 * has not run, so nothing has a version to be behind). Throws when the cluster cannot be reached.
 */
export async function setKubeadmKubernetesVersion(
  client: KubeClient,
  version: string,
): Promise<'updated' | 'current' | 'missing'> {
  const path = resourcePath(CONFIG_MAPS, KUBEADM_CONFIG_MAP);
  let cm: ConfigMap;
  try {
    cm = await client.request<ConfigMap>({ method: 'GET', path });
  } catch (err) {
    if (isNotFound(err)) return 'missing';
    throw err;
  }
  const text = cm.data?.ClusterConfiguration;
  if (text === undefined) return 'missing';
  const doc = parseDocument(text);
  if (doc.get('kubernetesVersion') === version) return 'current';
  doc.set('kubernetesVersion', version);
  // A replace with the resourceVersion read: a concurrent writer makes this fail, and it is retried.
  await client.request({
    method: 'PUT',
    path,
    body: { ...cm, data: { ...cm.data, ClusterConfiguration: doc.toString() } },
  });
  return 'updated';
}
