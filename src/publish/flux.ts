// Flux: what a Kustomization's or HelmRelease's `spec.kubeConfig` points at, in the namespace of the
// Flux objects that deploy to the cluster (default the Cluster's own).
// - `secretRef`: the Secret `<name>-flux-kubeconfig`, key `value`, a kubeconfig whose user is a token
//   of Flux's own ServiceAccount in the workload cluster (cluster-admin: Flux applies anything),
//   re-issued at two thirds of its life; Flux reads the Secret on every reconciliation.
// - `configMapRef` (EKS): the ConfigMap `<name>-flux-kubeconfig` with `provider: aws`, the cluster's
//   ARN, address and CA; kustomize-controller authenticates with its own AWS identity (workload
//   identity), so no credential is written anywhere.
// Flux can also read `<cluster>-kubeconfig` directly (key `value`); that Secret holds the admin
// credential, which this publisher exists to avoid handing out.
import { clusterAdmin } from './consumers.js';
import { opaqueSecret, tokenKubeconfig } from './objects.js';
import { CONFIG_MAPS, SECRETS } from './publisher.js';
import { defineTarget } from './registration.js';

export const fluxObjectName = (name: string): string => `${name}-flux-kubeconfig`;

export const flux = defineTarget('flux', {
  consumer: clusterAdmin('flux'),
  kinds: [SECRETS, CONFIG_MAPS],
  ownIdentity(inputs) {
    return inputs.managed?.provider === 'aws'
      ? "kustomize-controller's own AWS identity (spec.kubeConfig.configMapRef); the EKS cluster must grant it access"
      : undefined;
  },
  render(inputs, credential) {
    const metadata = { name: fluxObjectName(inputs.name), namespace: inputs.namespace };
    if (inputs.managed?.provider === 'aws') {
      return [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata,
          data: {
            provider: 'aws',
            cluster: inputs.managed.arn,
            // As EKS lists it: Flux checks the address against the cluster's own, as text.
            address: inputs.managed.endpoint,
            'ca.crt': inputs.caPEM,
          },
        },
      ];
    }
    return [opaqueSecret(metadata, { value: tokenKubeconfig(inputs, credential, { user: 'flux' }) })];
  },
});
