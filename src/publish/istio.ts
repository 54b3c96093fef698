// Istio multi-cluster: a remote Secret as `istioctl create-remote-secret` makes it, in
// `istio-system`, labelled `istio/multiCluster: "true"`, annotated with
// `networking.istio.io/cluster: <name>`, holding under the key `<name>` a kubeconfig whose user is
// a read-only ServiceAccount token. istiod only watches the remote cluster's services and
// endpoints through it; it can change nothing there.
import { ISTIO_READER_RULES } from './consumers.js';
import { opaqueSecret, tokenKubeconfig } from './objects.js';
import { SECRETS } from './publisher.js';
import { defineTarget } from './registration.js';

export const ISTIO_MULTICLUSTER_LABEL = 'istio/multiCluster';
export const ISTIO_CLUSTER_ANNOTATION = 'networking.istio.io/cluster';

export const istioSecretName = (name: string): string => `istio-remote-secret-${name}`;

export const istio = defineTarget('istio', {
  consumer: { serviceAccount: 'istio-reader', rules: ISTIO_READER_RULES, access: 'read-only' },
  kinds: [SECRETS],
  render(inputs, credential) {
    const metadata = {
      name: istioSecretName(inputs.name),
      namespace: inputs.namespace,
      labels: { [ISTIO_MULTICLUSTER_LABEL]: 'true' },
      annotations: { [ISTIO_CLUSTER_ANNOTATION]: inputs.name },
    };
    const kubeconfig = tokenKubeconfig(inputs, credential, { user: inputs.name, context: inputs.name });
    return [opaqueSecret(metadata, { [inputs.name]: kubeconfig })];
  },
});
