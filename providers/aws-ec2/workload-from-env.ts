// For tests against an AWS emulator, whose instances boot nothing and whose load balancers answer
// nothing: CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG names a kubeconfig whose API server stands in
// for every aws-ec2 workload cluster's API (kubeadm-config, join tokens, etcd port-forwards). Unset:
// each cluster's own API, through its load balancer, as its admin.
// CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG_DATA holds the kubeconfig itself, for an operator in a pod
// whose environment comes from a Secret (envFrom).
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../../src/runtime/transport.js';
import type { AwsEc2ProviderOptions } from './provider.js';

export const WORKLOAD_KUBECONFIG_ENV = 'CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG';
export const WORKLOAD_KUBECONFIG_DATA_ENV = 'CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG_DATA';

export function workloadClientFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<AwsEc2ProviderOptions, 'workloadClient'> {
  const path = env[WORKLOAD_KUBECONFIG_ENV]?.trim();
  const data = env[WORKLOAD_KUBECONFIG_DATA_ENV]?.trim();
  if (!path && !data) return {};
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromString(data as string);
  const client = new KubeClient(kc, { timeoutMs: 10_000, userAgent: 'clusterforge-aws-ec2-stand-in' });
  return { workloadClient: () => client };
}
