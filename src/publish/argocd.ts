// Argo CD: a declarative cluster Secret in Argo CD's namespace (default `argocd`), labelled
// `argocd.argoproj.io/secret-type: cluster`, with the keys Argo CD reads: `name`, `server` and
// `config` (the JSON of its ClusterConfig: a bearer token and the cluster CA). The chosen labels of
// the Cluster are copied onto it, so ApplicationSet cluster generators can select on them.
// For EKS the config is the `awsAuthConfig` form instead: Argo CD makes its own tokens from its own
// AWS identity (optionally assuming spec.publish.argoCD.awsRoleARN), and no token is minted for it.
// Argo CD deploys anything anywhere in the cluster, so its ServiceAccount is cluster-admin, as the
// `argocd-manager` that `argocd cluster add` makes.
import { clusterAdmin } from './consumers.js';
import { base64, opaqueSecret } from './objects.js';
import { SECRETS } from './publisher.js';
import { defineTarget } from './registration.js';

export const ARGOCD_SECRET_TYPE_LABEL = 'argocd.argoproj.io/secret-type';

/** The Secret's name: the Cluster's namespace and name, so clusters of two namespaces never clash. */
export const argoCDSecretName = (namespace: string, cluster: string): string =>
  `clusterforge-${namespace}-${cluster}`;

export const argoCD = defineTarget('argoCD', {
  consumer: clusterAdmin('argocd'),
  kinds: [SECRETS],
  ownIdentity(inputs) {
    if (inputs.managed?.provider !== 'aws') return undefined;
    const role = inputs.cluster.spec.publish?.argoCD?.awsRoleARN;
    return `Argo CD's own AWS identity${role ? ` assuming ${role}` : ''} (awsAuthConfig); the EKS cluster must grant it access`;
  },
  render(inputs, credential) {
    const tlsClientConfig = { insecure: false, caData: base64(inputs.caPEM) };
    const role = inputs.cluster.spec.publish?.argoCD?.awsRoleARN;
    const config =
      inputs.managed?.provider === 'aws'
        ? {
            awsAuthConfig: { clusterName: inputs.managed.clusterName, ...(role ? { roleARN: role } : {}) },
            tlsClientConfig,
          }
        : { bearerToken: credential.token, tlsClientConfig };
    const metadata = {
      name: argoCDSecretName(inputs.cluster.metadata.namespace!, inputs.cluster.metadata.name!),
      namespace: inputs.namespace,
      labels: { [ARGOCD_SECRET_TYPE_LABEL]: 'cluster' },
    };
    return [
      opaqueSecret(metadata, { name: inputs.name, server: inputs.server, config: JSON.stringify(config) }),
    ];
  },
});
