// The Cluster API kubeconfig Secret: <cluster>-kubeconfig, type cluster.x-k8s.io/secret, key `value`,
// label cluster.x-k8s.io/cluster-name. Tools written for Cluster API read it as it is. A credential
// that expires (EKS's 15-minute token) is rewritten at two thirds of its life. For providers whose
// people log in through a credential plug-in (EKS: `aws eks get-token`), a second Secret
// <cluster>-user-kubeconfig holds a kubeconfig that runs it, with no credential inside.
import type { V1Secret } from '@kubernetes/client-node';
import type { Cluster } from '../api/v1alpha1/index.js';
import {
  CAPI_CLUSTER_NAME_LABEL,
  CLUSTER_NAME_LABEL,
  controllerOwnerRef,
  EXPIRES_AT_ANNOTATION,
  ISSUED_AT_ANNOTATION,
} from '../api/v1alpha1/labels.js';
import type { ObjectWriter } from '../kube/writer.js';
import { renderKubeconfig } from '../pki/kubeconfig.js';
import type { KubeconfigMaterial } from '../provider/contract.js';
import { kubeconfigSecretName, userKubeconfigSecretName } from './kubeconfig-secret-names.js';

const SERVER_ANNOTATION = 'clusterforge.dev/kubeconfig-server';

/**
 * Whether the Secret must be (re)written: it is missing, points at another server, or its credential
 * has lived two thirds of its life (so a consumer never holds an expired one).
 */
export function needsRefresh(secret: V1Secret | undefined, server: string, now = new Date()): boolean {
  const annotations = secret?.metadata?.annotations;
  if (!secret?.data?.value || !annotations) return true;
  if (annotations[SERVER_ANNOTATION] !== server) return true;
  const due = refreshTimeOf(secret);
  return due !== undefined && now.getTime() >= due.getTime();
}

/** When the Secret's credential is due to be rewritten; undefined when it does not expire. */
export function refreshTimeOf(secret: V1Secret | undefined): Date | undefined {
  const annotations = secret?.metadata?.annotations ?? {};
  const issued = Date.parse(annotations[ISSUED_AT_ANNOTATION] ?? '');
  const expires = Date.parse(annotations[EXPIRES_AT_ANNOTATION] ?? '');
  if (Number.isNaN(issued) || Number.isNaN(expires)) return undefined;
  return new Date(issued + ((expires - issued) * 2) / 3);
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
    [ISSUED_AT_ANNOTATION]: (material.issuedAt ?? now).toISOString(),
  };
  if (material.expiresAt) annotations[EXPIRES_AT_ANNOTATION] = material.expiresAt.toISOString();
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

/** `<cluster>-user-kubeconfig`: the cluster's endpoint and CA, and a user that runs the provider's plug-in. */
export function userKubeconfigSecret(
  cluster: Cluster,
  material: KubeconfigMaterial & { userExec: NonNullable<KubeconfigMaterial['userExec']> },
): V1Secret {
  const name = cluster.metadata.name!;
  const value = renderKubeconfig({
    clusterName: name,
    server: material.server,
    caData: material.caData,
    exec: material.userExec,
    user: `${name}-user`,
  });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'cluster.x-k8s.io/secret',
    metadata: {
      name: userKubeconfigSecretName(name),
      namespace: cluster.metadata.namespace,
      labels: { [CAPI_CLUSTER_NAME_LABEL]: name, [CLUSTER_NAME_LABEL]: name },
      annotations: { [SERVER_ANNOTATION]: material.server },
      ownerReferences: [controllerOwnerRef(cluster)],
    },
    data: { value: Buffer.from(value).toString('base64') },
  };
}

/** What publishing the kubeconfig Secrets did, and when they must be looked at again. */
export interface KubeconfigPublication {
  /** The Secrets written by this call. */
  wrote: string[];
  /** When the credential is due to be rewritten; undefined when it does not expire. */
  refreshAt?: Date;
}

/** Creates or replaces one Secret; returns whether it wrote. */
async function writeSecret(writer: ObjectWriter, secret: V1Secret, existing: V1Secret | undefined) {
  if (!existing) {
    // false: someone made it between our read and our create; write over it on the next reconcile.
    return await writer.createSecret(secret);
  }
  secret.metadata!.resourceVersion = existing.metadata?.resourceVersion;
  await writer.replaceSecret(secret);
  return true;
}

/** Writes `<cluster>-kubeconfig` (and `<cluster>-user-kubeconfig`) when needsRefresh says so. */
export async function publishKubeconfigSecret(
  writer: ObjectWriter,
  cluster: Cluster,
  server: string,
  material: () => Promise<KubeconfigMaterial>,
): Promise<KubeconfigPublication> {
  const ns = cluster.metadata.namespace!;
  const name = cluster.metadata.name!;
  const existing = await writer.readSecret(ns, kubeconfigSecretName(name));
  if (!needsRefresh(existing, server)) {
    const refreshAt = refreshTimeOf(existing);
    return refreshAt ? { wrote: [], refreshAt } : { wrote: [] };
  }
  const now = new Date();
  const m = await material();
  const wrote: string[] = [];
  const secret = kubeconfigSecret(cluster, m, now);
  if (await writeSecret(writer, secret, existing)) wrote.push(secret.metadata!.name!);
  if (m.userExec) {
    const user = userKubeconfigSecret(cluster, { ...m, userExec: m.userExec });
    const current = await writer.readSecret(ns, user.metadata!.name!);
    if (current?.data?.value !== user.data!.value && (await writeSecret(writer, user, current))) {
      wrote.push(user.metadata!.name!);
    }
  }
  const refreshAt = refreshTimeOf(secret);
  return refreshAt ? { wrote, refreshAt } : { wrote };
}
