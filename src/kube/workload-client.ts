// A client for a workload cluster's API, as its admin, from the material its provider gives
// (provider.kubeconfig()): what the operator itself uses to reach into a cluster it manages. Only the
// operator holds it; consumers get identities of their own (src/publish/consumers.ts).
import { KubeConfig } from '@kubernetes/client-node';
import { toBase64Data } from '../pki/pem.js';
import type { KubeconfigMaterial } from '../provider/contract.js';
import { KubeClient } from '../runtime/transport.js';

/** A KubeConfig from the provider's admin material (client certificate or token). */
export function adminKubeConfig(material: KubeconfigMaterial): KubeConfig {
  const kc = new KubeConfig();
  const user =
    material.token !== undefined
      ? { name: 'admin', token: material.token }
      : {
          name: 'admin',
          certData: toBase64Data(material.clientCertData!),
          keyData: toBase64Data(material.clientKeyData!),
        };
  kc.loadFromOptions({
    clusters: [
      {
        name: 'workload',
        server: material.server,
        caData: toBase64Data(material.caData),
        skipTLSVerify: false,
      },
    ],
    users: [user],
    contexts: [{ name: 'admin@workload', cluster: 'workload', user: 'admin' }],
    currentContext: 'admin@workload',
  });
  return kc;
}

/** A KubeClient for the workload cluster as its admin, with a short timeout: it may not answer yet. */
export function workloadAdminClient(material: KubeconfigMaterial, userAgent: string): KubeClient {
  return new KubeClient(adminKubeConfig(material), { timeoutMs: 10_000, userAgent });
}
