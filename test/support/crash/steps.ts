// The steps both crash lifecycles are made of: a kubectl action on the cluster's namespace whose
// outcome is "converged" (test/support/converge.ts), and the delete, whose outcome is "gone".
import type { KubeConfig } from '@kubernetes/client-node';
import { kubectlOk } from '../../../src/devenv/kubectl.js';
import { describeCluster, waitConverged } from '../converge.js';
import { getObject, waitFor } from '../operator.js';
import type { Step } from './driver.js';

export interface ClusterRef {
  kc: KubeConfig;
  kubeconfigPath: string;
  namespace: string;
  name: string;
  /** Per step. Default 120 s. */
  timeoutMs?: number;
}

export function clusterSteps(ref: ClusterRef) {
  const { kc, namespace, name } = ref;
  const timeoutMs = ref.timeoutMs ?? 120_000;
  /** kubectl in the cluster's namespace; throws on a non-zero exit. */
  const kubectl = (args: string[], input?: string) =>
    kubectlOk(ref.kubeconfigPath, ['-n', namespace, ...args], input === undefined ? {} : { input });
  return {
    kubectl,
    /** A step done once the cluster has converged on its spec. */
    converging: (stepName: string, act: () => Promise<unknown>): Step => ({
      name: stepName,
      act: async () => {
        await act();
      },
      settled: async () => {
        await waitConverged(kc, namespace, name, timeoutMs);
      },
    }),
    /** `kubectl delete --wait=false`, done once the API server no longer has the Cluster. */
    deleting: (): Step => ({
      name: 'delete',
      act: async () => {
        await kubectl(['delete', `cluster.clusterforge.dev/${name}`, '--wait=false']);
      },
      settled: async () => {
        await waitFor(
          `cluster ${name} to be gone`,
          async () => ((await getObject(kc, 'clusters', namespace, name)) ? undefined : true),
          { timeoutMs, describe: () => describeCluster(kc, namespace, name) },
        );
      },
    }),
  };
}
