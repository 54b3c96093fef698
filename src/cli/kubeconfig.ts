// Finds the management cluster's kubeconfig as kubectl does: --kubeconfig, then KUBECONFIG, then
// ~/.kube/config, then the in-cluster service account; --context picks a context.
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeconfigFlags {
  kubeconfig?: string;
  context?: string;
}

export function loadKubeConfig(flags: KubeconfigFlags): KubeConfig {
  const kc = new KubeConfig();
  if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
  else kc.loadFromDefault();
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) {
      throw new Error(
        `context '${flags.context}' is not in the kubeconfig (have: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')})`,
      );
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new Error(
      'no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run inside a cluster',
    );
  }
  return kc;
}
