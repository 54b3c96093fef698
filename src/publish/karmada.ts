// Karmada in Push mode: a cluster-scoped `cluster.karmada.io/v1alpha1` Cluster with `apiEndpoint`,
// `syncMode: Push` and `secretRef` naming a Secret (default namespace `karmada-cluster`, as
// `karmadactl join` uses) with the keys `token` and `caBundle`. Karmada's controllers create and
// update the propagated workloads through it, so the ServiceAccount is cluster-admin.
import { CLUSTER_ADMIN_RULES } from './consumers.js';
import { type KindRef, SECRETS } from './publisher.js';
import type { TargetDefinition } from './registration.js';

export const KARMADA_CLUSTERS: KindRef = {
  group: 'cluster.karmada.io',
  version: 'v1alpha1',
  plural: 'clusters',
  kind: 'Cluster',
};

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export const karmada: TargetDefinition = {
  target: 'karmada',
  conditionType: 'KarmadaPublished',
  tool: 'Karmada',
  id: 'karmada',
  defaultNamespace: 'karmada-cluster',
  consumer: { serviceAccount: 'karmada', rules: CLUSTER_ADMIN_RULES, access: 'cluster-admin' },
  requires: { resource: KARMADA_CLUSTERS, crd: 'clusters.cluster.karmada.io' },
  kinds: [SECRETS, KARMADA_CLUSTERS],
  render(inputs, credential) {
    return [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: inputs.name, namespace: inputs.namespace },
        data: { token: b64(credential.token), caBundle: b64(inputs.caPEM) },
      },
      {
        apiVersion: 'cluster.karmada.io/v1alpha1',
        kind: 'Cluster',
        // Cluster-scoped: the labels say which Clusterforge cluster it stands for.
        metadata: { name: inputs.name },
        spec: {
          apiEndpoint: inputs.server,
          syncMode: 'Push',
          secretRef: { namespace: inputs.namespace, name: inputs.name },
        },
      },
    ];
  },
};
