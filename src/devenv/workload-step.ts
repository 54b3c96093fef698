// `dev up`'s last step once the cluster is Ready: the demo's Deployment applied to it, waited on,
// its pods shown with their nodes, and one of them answering, with the time since Ready.
import type { KubeConfig } from '@kubernetes/client-node';
import type { NodeImage } from '../../providers/local/kubelet/images.js';
import { askPod } from './answer.js';
import { applyWorkload, WORKLOAD, waitWorkload } from './demo-workload.js';
import { kubectlOk } from './kubectl.js';
import type { Out } from './output.js';

export interface WorkloadCluster {
  /** Its published kubeconfig, as written by `dev up`, and as shown to the user. */
  kubeconfig: string;
  display: string;
  kc: KubeConfig;
}

export async function showWorkload(
  out: Out,
  cluster: WorkloadCluster,
  image: NodeImage,
  opts: { archiveShown: string; timeoutMs: number; readyAt: number },
): Promise<void> {
  const { kubeconfig, display } = cluster;
  out.line(
    `Deployment ${WORKLOAD.name} (${WORKLOAD.replicas} replicas of ${image.ref}, loaded into each worker from ${opts.archiveShown})`,
  );
  out.line(`  ${await applyWorkload(kubeconfig, image)}`);
  const pods = await waitWorkload(cluster.kc, display, opts.timeoutMs);

  // By name: a pod of an older ReplicaSet may still be terminating, and would only confuse.
  const names = pods.map((p) => p.name);
  out.line();
  out.line(`$ kubectl --kubeconfig ${display} get pods ${names.join(' ')} -o wide`);
  const table = await kubectlOk(kubeconfig, ['get', 'pods', ...names, '-o', 'wide']);
  for (const line of table.trimEnd().split('\n')) out.line(line);

  const pod = pods[0]?.name as string;
  const answer = await askPod(kubeconfig, pod, WORKLOAD.port);
  out.line();
  if (answer.via === 'kubectl port-forward') {
    out.line(
      `$ kubectl --kubeconfig ${display} port-forward pod/${pod} :${WORKLOAD.port}   # then GET / there`,
    );
  } else {
    out.line(`(kubectl port-forward failed: ${answer.forwardError})`);
    out.line(
      `$ kubectl --kubeconfig ${display} exec ${pod} -- /hello get http://127.0.0.1:${WORKLOAD.port}/`,
    );
  }
  out.line(answer.text);
  const since = ((Date.now() - opts.readyAt) / 1000).toFixed(1);
  out.line(`Pod ${pod} answered through ${answer.via}, ${since} s after the cluster was Ready`);
}
