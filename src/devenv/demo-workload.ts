// The demo's workload: a Deployment `hello` (2 replicas of the hello image `make node-images` builds;
// nodes pull from no registry, so each kubelet worker loads the archive when it starts), applied to
// the new cluster through its published kubeconfig and waited on until both pods are Running and
// Ready on the cluster's own nodes. answer.ts then asks one of them.
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { builtImage, type NodeImage } from '../../providers/local/kubelet/images.js';
import { buildCommand, isCheckout } from '../package/root.js';
import { kubectlOk } from './kubectl.js';
import { FIELD_MANAGER } from './objects.js';
import { Progress } from './progress.js';

export const WORKLOAD = { name: 'hello', namespace: 'default', replicas: 2, port: 8080 } as const;

/** The built hello image, or an error that says how to build it. */
export async function helloImage(env: NodeJS.ProcessEnv = process.env): Promise<NodeImage> {
  const lookup = await builtImage('hello', env);
  if (lookup.found) return lookup.image;
  const build = buildCommand('node-images');
  const hint = lookup.message.includes(build) ? '' : `; run ${build}`;
  const first = isCheckout() ? ' (make demo does it first)' : '';
  throw new Error(`the demo's hello image is missing: ${lookup.message}${hint}${first}`);
}

/** How a user starts the dev environment over: make in a checkout, the command itself when installed. */
const restart = (): string =>
  isCheckout() ? 'make demo-down && make demo' : 'clusterforge dev down && clusterforge dev up';

function helloDeployment(image: NodeImage): object {
  const labels = { app: WORKLOAD.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: WORKLOAD.name, namespace: WORKLOAD.namespace, labels },
    spec: {
      replicas: WORKLOAD.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [
            {
              name: 'hello',
              image: image.ref,
              // Loaded into the nodes from the archive: there is no registry to pull from.
              imagePullPolicy: 'Never',
              ports: [{ name: 'http', containerPort: WORKLOAD.port }],
              // The kubelet asks from the host, through the node's bridge (which has an address for that).
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2 },
            },
          ],
        },
      },
    },
  };
}

/** Server-side apply, as for the cluster: a second `dev up` changes nothing. Resolves with kubectl's line. */
export async function applyWorkload(kubeconfig: string, image: NodeImage): Promise<string> {
  const applied = await kubectlOk(
    kubeconfig,
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
    { input: JSON.stringify(helloDeployment(image)) },
  );
  return applied.trim();
}

export interface WorkloadPod {
  name: string;
  node: string;
  phase: string;
  ready: boolean;
  /** Why its container waits (ContainerCreating, ErrImageNeverPull, ...), when it does. */
  waiting?: string;
}

interface WorkloadView {
  ready: boolean;
  summary: string;
  pods: WorkloadPod[];
}

function podView(pod: V1Pod): WorkloadPod {
  const container = pod.status?.containerStatuses?.[0];
  return {
    name: pod.metadata?.name ?? '?',
    node: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? 'Pending',
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    waiting: container?.state?.waiting?.reason,
  };
}

async function viewWorkload(kc: KubeConfig): Promise<WorkloadView> {
  const { name, namespace } = WORKLOAD;
  const [deployment, podList, nodeList] = await Promise.all([
    kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace }),
    kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: `app=${name}` }),
    kc.makeApiClient(CoreV1Api).listNode(),
  ]);
  const nodes = new Set(nodeList.items.map((n) => n.metadata?.name));
  const pods = podList.items.filter((p) => !p.metadata?.deletionTimestamp).map(podView);
  const s = deployment.status ?? {};
  const current =
    (s.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0) &&
    s.updatedReplicas === WORKLOAD.replicas &&
    s.readyReplicas === WORKLOAD.replicas;
  const onOwnNodes = (p: WorkloadPod) => p.phase === 'Running' && p.ready && nodes.has(p.node);
  const ready = current && pods.length === WORKLOAD.replicas && pods.every(onOwnNodes);
  const shown = pods.map(
    (p) => `${p.name} ${p.waiting ?? p.phase}${p.ready ? ' Ready' : ''}${p.node ? ` on ${p.node}` : ''}`,
  );
  const summary = [`${s.readyReplicas ?? 0}/${WORKLOAD.replicas} ready`, ...shown].join(' · ');
  return { ready, summary, pods };
}

/** A waiting reason that no wait cures. */
const HOPELESS = ['ErrImageNeverPull', 'InvalidImageName', 'CreateContainerConfigError'];

/** Waits (bounded) until both pods are Running and Ready on the cluster's nodes; resolves with them. */
export async function waitWorkload(
  kc: KubeConfig,
  kubeconfig: string,
  timeoutMs: number,
): Promise<WorkloadPod[]> {
  const progress = new Progress(`Deployment ${WORKLOAD.name}`);
  const deadline = Date.now() + timeoutMs;
  const hint = `look at \`kubectl --kubeconfig ${kubeconfig} describe pods -l app=${WORKLOAD.name}\``;
  for (;;) {
    let view: WorkloadView;
    try {
      view = await viewWorkload(kc);
    } catch (err) {
      view = { ready: false, summary: `cannot read it: ${(err as Error).message}`, pods: [] };
    }
    if (view.ready) {
      progress.done(`Deployment ${WORKLOAD.name}: ${WORKLOAD.replicas} pods Running and Ready`);
      return view.pods;
    }
    progress.update(view.summary);
    const stuck = view.pods.find((p) => p.waiting && HOPELESS.includes(p.waiting));
    if (stuck) {
      progress.fail();
      throw new Error(
        `pod ${stuck.name} on ${stuck.node}: ${stuck.waiting}. A node loads its images when it starts: ` +
          `after \`${buildCommand('node-images')}\` built a new hello image, start over with \`${restart()}\`; ${hint}`,
      );
    }
    if (Date.now() > deadline) {
      progress.fail();
      throw new Error(
        `Deployment ${WORKLOAD.name} is not Ready after ${Math.round(timeoutMs / 1000)} s (${view.summary}); ${hint}`,
      );
    }
    await sleep(500);
  }
}
