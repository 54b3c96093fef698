// Rancher Fleet (manager-initiated registration): a `fleet.cattle.io/v1alpha1` Cluster in the
// Fleet workspace namespace (default `fleet-default`) whose `spec.kubeConfigSecret` names a Secret
// beside it with the kubeconfig under the key `value`. Fleet uses that kubeconfig to install its
// agent into the cluster, which takes cluster-admin.
import { apiVersionOf } from '../kube/resources.js';
import { clusterAdmin } from './consumers.js';
import { opaqueSecret, tokenKubeconfig } from './objects.js';
import { kindRef, SECRETS } from './publisher.js';
import { defineTarget } from './registration.js';

export const FLEET_CLUSTERS = kindRef('fleet.cattle.io/v1alpha1', 'Cluster', 'clusters');

/** Not `<name>-kubeconfig`: that is the Cluster API Secret's name when Fleet's namespace is the Cluster's. */
export const fleetSecretName = (name: string): string => `${name}-fleet-kubeconfig`;

export const fleet = defineTarget('fleet', {
  consumer: clusterAdmin('fleet'),
  kinds: [SECRETS, FLEET_CLUSTERS],
  render(inputs, credential) {
    const kubeconfig = tokenKubeconfig(inputs, credential, {
      user: `fleet@${inputs.name}`,
      context: inputs.name,
    });
    const secret = fleetSecretName(inputs.name);
    return [
      opaqueSecret({ name: secret, namespace: inputs.namespace }, { value: kubeconfig }),
      {
        apiVersion: apiVersionOf(FLEET_CLUSTERS),
        kind: 'Cluster',
        metadata: { name: inputs.name, namespace: inputs.namespace },
        spec: { kubeConfigSecret: secret },
      },
    ];
  },
});
