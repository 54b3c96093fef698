// The Cluster API kubeconfig Secret: <cluster>-kubeconfig, type cluster.x-k8s.io/secret, key `value`,
// label cluster.x-k8s.io/cluster-name. Tools written for Cluster API read it as it is.
import type { V1Secret } from '@kubernetes/client-node';
import type { Cluster } from '../api/v1alpha1/index.js';
import {
  CAPI_CLUSTER_NAME_LABEL,
  CLUSTER_NAME_LABEL,
  controllerOwnerRef,
} from '../controllers/common/labels.js';
import type { ObjectWriter } from '../kube/writer.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import type { KubeconfigMaterial } from '../provider/contract.js';

export const kubeconfigSecretName = (cluster: string): string => `${cluster}-kubeconfig`;

const SERVER_ANNOTATION = 'clusterforge.dev/kubeconfig-server';
const ISSUED_ANNOTATION = 'clusterforge.dev/credential-issued-at';
const EXPIRES_ANNOTATION = 'clusterforge.dev/credential-expires-at';

/**
 * Whether the Secret must be (re)written: it is missing, points at another server, or its credential
 * has lived two thirds of its life (so a consumer never holds an expired one).
 */
export function needsRefresh(secret: V1Secret | undefined, server: string, now = new Date()): boolean {
  const annotations = secret?.metadata?.annotations;
  if (!secret?.data?.value || !annotations) return true;
  if (annotations[SERVER_ANNOTATION] !== server) return true;
  const issued = Date.parse(annotations[ISSUED_ANNOTATION] ?? '');
  const expires = Date.parse(annotations[EXPIRES_ANNOTATION] ?? '');
  if (Number.isNaN(issued) || Number.isNaN(expires)) return false;
  return now.getTime() >= issued + ((expires - issued) * 2) / 3;
}

export function serverURL(endpoint: { host: string; port: number }): string {
  return `https://${endpoint.host}:${endpoint.port}`;
}

export function kubeconfigSecret(cluster: Cluster, material: KubeconfigMaterial, now = new Date()): V1Secret {
  const name = cluster.metadata.name!;
  const value = renderKubeconfig({
    clusterName: name,
    server: material.server,
    caData: material.caData,
    ...(material.token !== undefined
      ? { token: material.token }
      : { clientCertData: material.clientCertData!, clientKeyData: material.clientKeyData! }),
  });
  const annotations: Record<string, string> = {
    [SERVER_ANNOTATION]: material.server,
    [ISSUED_ANNOTATION]: now.toISOString(),
  };
  if (material.expiresAt) annotations[EXPIRES_ANNOTATION] = material.expiresAt.toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'cluster.x-k8s.io/secret',
    metadata: {
      name: kubeconfigSecretName(name),
      namespace: cluster.metadata.namespace,
      labels: { [CAPI_CLUSTER_NAME_LABEL]: name, [CLUSTER_NAME_LABEL]: name },
      annotations,
      ownerReferences: [controllerOwnerRef(cluster)],
    },
    data: { value: Buffer.from(value).toString('base64') },
  };
}

/** Writes the Secret when needsRefresh says so. Returns whether it wrote. */
export async function publishKubeconfigSecret(
  writer: ObjectWriter,
  cluster: Cluster,
  server: string,
  material: () => Promise<KubeconfigMaterial>,
): Promise<boolean> {
  const existing = await writer.readSecret(
    cluster.metadata.namespace!,
    kubeconfigSecretName(cluster.metadata.name!),
  );
  if (!needsRefresh(existing, server)) return false;
  const secret = kubeconfigSecret(cluster, await material());
  if (!existing) {
    if (await writer.createSecret(secret)) return true;
    // Someone made it between our read and our create: write over it on the next reconcile.
    return false;
  }
  secret.metadata!.resourceVersion = existing.metadata?.resourceVersion;
  await writer.replaceSecret(secret);
  return true;
}
