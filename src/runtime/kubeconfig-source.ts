// What a KubeClient needs of a kubeconfig: client-node's KubeConfig (the operator), or the CLI's lighter
// Kubeconfig (src/kube/kubeconfig/), which does not load client-node's generated models at start-up.
import type { KubeConfig } from '@kubernetes/client-node';

export type KubeConfigSource = Pick<KubeConfig, 'getCurrentCluster' | 'applyToHTTPSOptions'>;
