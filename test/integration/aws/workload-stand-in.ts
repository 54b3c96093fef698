// The emulator's instances boot nothing and its load balancers answer nothing, so the test API server
// stands in for an aws-ec2 workload cluster's API (kubeadm-config, join tokens): the provider's
// workloadClient option, or CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG for an operator process.
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { TOKEN_MACHINE_LABEL } from '../../../providers/aws-ec2/join-tokens/token.js';
import type { Machine } from '../../../src/api/v1alpha1/index.js';
import { KubeClient } from '../../../src/runtime/transport.js';

export const workloadStandIn = (kc: KubeConfig) => ({ workloadClient: () => new KubeClient(kc) });

/** The join-token Secrets the stand-in holds for a machine. */
export async function joinTokenSecrets(kc: KubeConfig, machine: Machine): Promise<V1Secret[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({
    namespace: 'kube-system',
    labelSelector: `${TOKEN_MACHINE_LABEL}=${machine.metadata.uid}`,
  });
  return list.items;
}

/** Deletes the join-token Secrets a test's machines left in the stand-in (machines it never deleted). */
export async function deleteJoinTokenSecrets(kc: KubeConfig, machines: Machine[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const m of machines) {
    for (const s of await joinTokenSecrets(kc, m).catch(() => [])) {
      await core
        .deleteNamespacedSecret({ namespace: 'kube-system', name: s.metadata?.name as string })
        .catch(() => undefined);
    }
  }
}

export const secretText = (s: V1Secret, key: string): string =>
  Buffer.from(s.data?.[key] ?? '', 'base64').toString('utf8');
