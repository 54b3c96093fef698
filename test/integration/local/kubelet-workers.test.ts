// Local clusters whose workers are real kubelets: pods run on them, `kubectl logs` and `kubectl
// exec` work through the published kubeconfig, workers join and leave, and a removed node leaves
// nothing on the host (no process, cgroup, bridge or mount of it).
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtImage } from '../../../providers/local/kubelet/images.js';
import { hostLeftovers, nodePaths } from '../../../providers/local/kubelet/node.js';
import { clusterPaths, machinePaths } from '../../../providers/local/state.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import {
  deleteClusterAndWait,
  getObject,
  listObjects,
  useOperator,
  waitFor,
} from '../../support/operator.js';
import { watchClusterPhase } from '../../support/phase-watch.js';
import { writeKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('kubelet-workers');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const CLUSTER = 'real';

async function workloadKubeconfig(): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: `${CLUSTER}-kubeconfig`, namespace: namespace() });
  return await writeKubeconfig(Buffer.from(secret.data!.value!, 'base64').toString('utf8'));
}

async function workload(args: string[], kubeconfigPath: string, input?: string) {
  const result = await kubectl(args, { kubeconfigPath, input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

interface NodeView {
  name: string;
  ready: boolean;
  kubeletVersion: string;
  containerRuntime: string;
}

async function nodes(kubeconfigPath: string): Promise<NodeView[]> {
  const list = JSON.parse(await workload(['get', 'nodes', '-o', 'json'], kubeconfigPath));
  return list.items.map((n: any) => ({
    name: n.metadata.name,
    ready: n.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false,
    kubeletVersion: n.status.nodeInfo.kubeletVersion,
    containerRuntime: n.status.nodeInfo.containerRuntimeVersion,
  }));
}

const workerMachines = async () =>
  (await listObjects(kc, 'machines', namespace()))
    .filter((m: any) => m.spec.role === 'Worker')
    .map((m: any) => m.metadata.name as string);

function nodeOf(machine: string) {
  const cluster = clusterPaths(join(operator().stateDir), namespace(), CLUSTER);
  return nodePaths(machinePaths(cluster, machine));
}

async function helloImage() {
  const hello = await builtImage('hello');
  if (!hello.found) throw new Error(hello.message);
  return hello.image;
}

async function helloDeployment(): Promise<string> {
  const hello = { image: await helloImage() };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace: 'default' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'hello' } },
      template: {
        metadata: { labels: { app: 'hello' } },
        spec: {
          containers: [
            {
              name: 'hello',
              image: hello.image.ref,
              imagePullPolicy: 'Never',
              ports: [{ containerPort: 8080 }],
              // The kubelet probes from the host: the node's bridge must route to its pods.
              readinessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  });
}

/** What a stuck deletion waits on: the Cluster's phase and conditions, each Machine's. */
async function deletionState(): Promise<string> {
  const brief = (o: any) => ({
    name: o.metadata.name,
    phase: o.status?.phase,
    conditions: (o.status?.conditions ?? [])
      .filter((c: any) => c.status !== 'True')
      .map((c: any) => `${c.type}=${c.status} ${c.reason ?? ''}: ${c.message ?? ''}`),
  });
  const cluster = await getObject(kc, 'clusters', namespace(), CLUSTER);
  const machines = await listObjects(kc, 'machines', namespace());
  return JSON.stringify({ cluster: cluster && brief(cluster), machines: machines.map(brief) }, null, 1);
}

/** Until the Cluster's phase is Ready at its current generation, every part converged. */
async function phaseReady(): Promise<void> {
  await waitFor(
    'the Cluster converged and its phase Ready',
    async () => {
      const c = await waitConverged(kc, namespace(), CLUSTER, 60_000);
      return c.status.phase === 'Ready' ? c : undefined;
    },
    { timeoutMs: 90_000 },
  );
}

describe('a local cluster with kubelet workers', () => {
  it('runs pods on its own nodes; workers join and leave and leave nothing behind', async () => {
    operator();
    // The host paths a kubelet and containerd write to unasked: none may appear (the node's own
    // mount namespace holds them).
    const hostPaths = [
      '/var/lib/kubelet',
      '/var/log/containers',
      '/var/log/pods',
      '/var/lib/cni',
      '/run/containerd',
      '/opt/containerd',
    ];
    const existedBefore = hostPaths.filter((p) => existsSync(p));
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: CLUSTER,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Kubelet',
      LOCAL_NODE_IMAGES: JSON.stringify([(await helloImage()).archive]),
      WORKER_MACHINE_COUNT: '2',
    });
    await kubectl(['apply', '-f', '-'], { input: manifest });
    const status = async () =>
      JSON.stringify((await getObject(kc, 'clusters', namespace(), CLUSTER))?.status);
    await waitFor(
      'Cluster Ready',
      async () => {
        const c = await getObject(kc, 'clusters', namespace(), CLUSTER);
        return c?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')
          ? c
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, describe: status },
    );
    const path = await workloadKubeconfig();

    // Both nodes are Ready kubelets of the cluster's version, on containerd.
    const ready = await nodes(path);
    expect(ready.map((n) => n.name).sort()).toEqual((await workerMachines()).sort());
    for (const n of ready) {
      expect(n).toMatchObject({ ready: true, kubeletVersion: 'v1.37.2' });
      expect(n.containerRuntime).toMatch(/^containerd:\/\//);
    }

    // kube-controller-manager does what it does in any cluster: every namespace gets its default
    // ServiceAccount and the cluster CA's ConfigMap.
    await waitFor(
      'the default ServiceAccount and kube-root-ca.crt',
      async () => {
        const sa = await kubectl(['get', 'serviceaccount', 'default', '-o', 'name'], {
          kubeconfigPath: path,
        });
        const cm = await kubectl(['get', 'configmap', 'kube-root-ca.crt', '-o', 'name'], {
          kubeconfigPath: path,
        });
        return sa.code === 0 && cm.code === 0 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    // A Deployment makes pods (kube-controller-manager), they are scheduled (kube-scheduler) and run.
    await workload(['apply', '-f', '-'], path, await helloDeployment());
    await workload(['rollout', 'status', 'deployment/hello', '--timeout=120s'], path);
    const pods = JSON.parse(await workload(['get', 'pods', '-l', 'app=hello', '-o', 'json'], path)).items;
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.status.phase).toBe('Running');
      expect(ready.map((n) => n.name)).toContain(pod.spec.nodeName);
    }
    const pod = pods[0].metadata.name;
    const answer = await workload(['exec', pod, '--', '/hello', 'get', 'http://127.0.0.1:8080/'], path);
    expect(answer).toContain(pod);
    // The API server reaches the pod too (its proxy), as the kubelet's probe did.
    const proxied = await workload(
      ['get', '--raw', `/api/v1/namespaces/default/pods/${pod}:8080/proxy/`],
      path,
    );
    expect(proxied).toContain(pod);
    const logs = await workload(['logs', pod], path);
    expect(logs).toMatch(/GET \//);

    // Scale 2 -> 3 -> 1: nodes join and leave; a removed node leaves nothing on the host.
    const scale = (n: number) =>
      kubectl(['scale', 'machinedeployment', `${CLUSTER}-workers`, `--replicas=${n}`, '-n', namespace()]);
    // The phase as `kubectl get -w` shows it through each scale: Scaling, then Ready, never Provisioning
    // while a new kubelet's Node is NotReady, never Ready while the Ready condition is False.
    const before = await workerMachines();
    let watch = watchClusterPhase(namespace(), CLUSTER);
    await new Promise((r) => setTimeout(r, 500));
    await scale(3);
    await waitFor(
      '3 Ready nodes',
      async () => {
        const all = await nodes(path);
        return all.length === 3 && all.every((n) => n.ready) ? all : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    await phaseReady();
    expect(await watch.stop()).toEqual(['Ready True ready', 'Scaling False scaling', 'Ready True ready']);
    const three = await workerMachines();
    watch = watchClusterPhase(namespace(), CLUSTER);
    await new Promise((r) => setTimeout(r, 500));
    await scale(1);
    await waitFor('1 node', async () => ((await nodes(path)).length === 1 ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 1_000,
    });
    await waitFor(
      '2 worker Machines gone',
      async () => ((await workerMachines()).length === 1 ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
    await phaseReady();
    expect(await watch.stop()).toEqual(['Ready True ready', 'Scaling False scaling', 'Ready True ready']);
    const kept = await workerMachines();
    const removed = three.filter((m) => !kept.includes(m));
    expect(removed).toHaveLength(2);
    for (const machine of removed) {
      expect(await hostLeftovers(nodeOf(machine))).toEqual({ processes: [], cgroups: [], bridge: false });
    }
    expect(before.length).toBe(2);
    // The one left still runs its processes.
    expect((await hostLeftovers(nodeOf(kept[0] as string))).processes.length).toBeGreaterThan(2);

    // Deleting the cluster leaves nothing of any node on the host.
    await deleteClusterAndWait(kc, namespace(), CLUSTER, 120_000, deletionState);
    for (const machine of three) {
      expect(await hostLeftovers(nodeOf(machine))).toEqual({ processes: [], cgroups: [], bridge: false });
    }
    // Their pod subnets are free again, and no route to them is left on the host.
    const claims = join(operator().stateDir, 'local', 'node-subnets');
    const held = await Promise.all(
      (await readdir(claims)).map(async (f) => `${f} by ${await readFile(join(claims, f), 'utf8')}`),
    );
    expect(held).toEqual([]);
    expect(hostPaths.filter((p) => existsSync(p))).toEqual(existedBefore);
    const mounts = await readFile('/proc/self/mountinfo', 'utf8');
    expect(mounts).not.toContain(operator().stateDir);
  }, 600_000);
});
