// The project's hello workload in a workload cluster, for tests of real (kubelet) nodes: its image,
// a Deployment of it, its pods, and a probe that asks a Ready one through `kubectl exec` all along.
import { builtImage } from '../../providers/local/kubelet/images.js';
import { kubectl } from './kube.js';
import { getJSON } from './workload.js';

export async function helloImage() {
  const hello = await builtImage('hello');
  if (!hello.found) throw new Error(hello.message);
  return hello.image;
}

export async function workload(path: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { kubeconfigPath: path, ...(input ? { input } : {}) });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Hello pods that prefer different nodes, so that each worker runs one while there are enough. */
export function helloDeployment(image: string, replicas = 3): string {
  const labels = { app: 'hello' };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 5,
          affinity: {
            podAntiAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                {
                  weight: 100,
                  podAffinityTerm: {
                    labelSelector: { matchLabels: labels },
                    topologyKey: 'kubernetes.io/hostname',
                  },
                },
              ],
            },
          },
          containers: [
            {
              name: 'hello',
              image,
              imagePullPolicy: 'Never',
              ports: [{ containerPort: 8080 }],
              // From the kubelet on the host, through the node's bridge.
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

export interface PodView {
  name: string;
  node: string;
  ready: boolean;
  terminating: boolean;
}

export async function helloPods(kubeconfig: string): Promise<PodView[]> {
  const list = await getJSON(kubeconfig, '/api/v1/namespaces/default/pods?labelSelector=app%3Dhello');
  return list.items.map((p: any) => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    ready: p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: Boolean(p.metadata.deletionTimestamp),
  }));
}

/**
 * Every 300 ms, `kubectl exec` into a Ready hello pod and GET its server. A failure counts only when
 * the pod is still Ready and not terminating afterwards (one picked just as it was evicted is not one).
 */
export function startExecProbe(path: string, kubeconfig: string) {
  // listErrors: the pod list itself failed (the API server, not the workload: a control-plane upgrade
  // may refuse a list for a moment while etcd changes members); such a round asks no pod.
  const state = { ok: 0, failures: [] as string[], noReadyPod: 0, listErrors: 0, stop: false };
  const done = (async () => {
    while (!state.stop) {
      const pods = await helloPods(kubeconfig).catch(() => undefined);
      const pod = pods?.find((p) => p.ready && !p.terminating);
      if (!pods) state.listErrors++;
      else if (!pod) state.noReadyPod++;
      else {
        const r = await kubectl(['exec', pod.name, '--', '/hello', 'get', 'http://127.0.0.1:8080/'], {
          kubeconfigPath: path,
        });
        if (r.code === 0 && r.stdout.includes(pod.name)) state.ok++;
        else {
          const after = (await helloPods(kubeconfig).catch(() => [])).find((p) => p.name === pod.name);
          if (after?.ready && !after.terminating) state.failures.push(`${pod.name}: ${r.stderr.trim()}`);
        }
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const stop = async () => {
    state.stop = true;
    await done;
  };
  return { state, stop };
}
