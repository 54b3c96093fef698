// Karmada in Push mode: a cluster-scoped `cluster.karmada.io/v1alpha1` Cluster with `apiEndpoint`,
// `syncMode: Push` and `secretRef` naming a Secret (default namespace `karmada-cluster`, as
// `karmadactl join` uses) with the keys `token` and `caBundle`. Karmada's controllers create and
// update the propagated workloads through it, so the ServiceAccount is cluster-admin.
import { apiVersionOf } from '../kube/resources.js';
import { clusterAdmin } from './consumers.js';
import { opaqueSecret } from './objects.js';
import { kindRef, SECRETS } from './publisher.js';
import { defineTarget } from './registration.js';

export const KARMADA_CLUSTERS = kindRef('cluster.karmada.io/v1alpha1', 'Cluster', 'clusters');

export const karmada = defineTarget('karmada', {
  consumer: clusterAdmin('karmada'),
  kinds: [SECRETS, KARMADA_CLUSTERS],
  render(inputs, credential) {
    return [
      opaqueSecret(
        { name: inputs.name, namespace: inputs.namespace },
        { token: credential.token, caBundle: inputs.caPEM },
      ),
      {
        apiVersion: apiVersionOf(KARMADA_CLUSTERS),
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
});
