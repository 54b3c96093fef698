// Istio multi-cluster: a remote Secret as `istioctl create-remote-secret` makes it, in
// `istio-system`, labelled `istio/multiCluster: "true"`, annotated with
// `networking.istio.io/cluster: <name>`, holding under the key `<name>` a kubeconfig whose user is
// a read-only ServiceAccount token. istiod only watches the remote cluster's services and
// endpoints through it; it can change nothing there.
import { renderKubeconfig } from '../pki/kubeconfig.js';
import { ISTIO_READER_RULES } from './consumers.js';
import { SECRETS } from './publisher.js';
import type { TargetDefinition } from './registration.js';

export const ISTIO_MULTICLUSTER_LABEL = 'istio/multiCluster';
export const ISTIO_CLUSTER_ANNOTATION = 'networking.istio.io/cluster';

export const istioSecretName = (name: string): string => `istio-remote-secret-${name}`;

export const istio: TargetDefinition = {
  target: 'istio',
  conditionType: 'IstioPublished',
  tool: 'Istio',
  id: 'istio',
  defaultNamespace: 'istio-system',
  consumer: { serviceAccount: 'istio-reader', rules: ISTIO_READER_RULES, access: 'read-only' },
  kinds: [SECRETS],
  render(inputs, credential) {
    const kubeconfig = renderKubeconfig({
      clusterName: inputs.name,
      server: inputs.server,
      caData: inputs.caPEM,
      token: credential.token,
      user: inputs.name,
      context: inputs.name,
    });
    return [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: {
          name: istioSecretName(inputs.name),
          namespace: inputs.namespace,
          labels: { [ISTIO_MULTICLUSTER_LABEL]: 'true' },
          annotations: { [ISTIO_CLUSTER_ANNOTATION]: inputs.name },
        },
        data: { [inputs.name]: Buffer.from(kubeconfig, 'utf8').toString('base64') },
      },
    ];
  },
};
