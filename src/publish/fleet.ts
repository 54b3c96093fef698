// Rancher Fleet (manager-initiated registration): a `fleet.cattle.io/v1alpha1` Cluster in the
// Fleet workspace namespace (default `fleet-default`) whose `spec.kubeConfigSecret` names a Secret
// beside it with the kubeconfig under the key `value`. Fleet uses that kubeconfig to install its
// agent into the cluster, which takes cluster-admin.
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { CLUSTER_ADMIN_RULES } from './consumers.js';
import { type KindRef, SECRETS } from './publisher.js';
import type { TargetDefinition } from './registration.js';

export const FLEET_CLUSTERS: KindRef = {
  group: 'fleet.cattle.io',
  version: 'v1alpha1',
  plural: 'clusters',
  kind: 'Cluster',
};

/** Not `<name>-kubeconfig`: that is the Cluster API Secret's name when Fleet's namespace is the Cluster's. */
export const fleetSecretName = (name: string): string => `${name}-fleet-kubeconfig`;

export const fleet: TargetDefinition = {
  target: 'fleet',
  conditionType: 'FleetPublished',
  tool: 'Fleet',
  id: 'fleet',
  defaultNamespace: 'fleet-default',
  consumer: { serviceAccount: 'fleet', rules: CLUSTER_ADMIN_RULES, access: 'cluster-admin' },
  requires: { resource: FLEET_CLUSTERS, crd: 'clusters.fleet.cattle.io' },
  kinds: [SECRETS, FLEET_CLUSTERS],
  render(inputs, credential) {
    const kubeconfig = renderKubeconfig({
      clusterName: inputs.name,
      server: inputs.server,
      caData: inputs.caPEM,
      token: credential.token,
      user: `fleet@${inputs.name}`,
      context: inputs.name,
    });
    const secret = fleetSecretName(inputs.name);
    return [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: secret, namespace: inputs.namespace },
        data: { value: Buffer.from(kubeconfig, 'utf8').toString('base64') },
      },
      {
        apiVersion: 'fleet.cattle.io/v1alpha1',
        kind: 'Cluster',
        metadata: { name: inputs.name, namespace: inputs.namespace },
        spec: { kubeConfigSecret: secret },
      },
    ];
  },
};
