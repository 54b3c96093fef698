// Scaling kubelet workers down drains the removed Node first, as `kubectl drain` would: it is cordoned,
// its pods are evicted through the Eviction API (a PodDisruptionBudget that allows no disruption holds
// the Machine back, and its condition names it), and the workload keeps answering throughout.
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtImage } from '../../../providers/local/kubelet/images.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, useOperator, waitFor } from '../../support/operator.js';
import { getJSON, publishedKubeconfig, writeKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('drain');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const CLUSTER = 'drain';

async function helloImage() {
  const hello = await builtImage('hello');
  if (!hello.found) throw new Error(hello.message);
  return hello.image;
}

async function workload(path: string, args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, { kubeconfigPath: path, ...(input ? { input } : {}) });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Two hello pods that prefer different nodes, so that each worker runs one. */
function helloDeployment(image: string): string {
  const labels = { app: 'hello' };
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hello', namespace: 'default' },
    spec: {
      replicas: 2,
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
              readinessProbe: {
                exec: { command: ['/hello', 'get', 'http://127.0.0.1:8080/'] },
                periodSeconds: 1,
              },
            },
          ],
        },
      },
    },
  });
}

const budget = (name: string, minAvailable: number) =>
  JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec: { minAvailable, selector: { matchLabels: { app: 'hello' } } },
  });

interface PodView {
  name: string;
  node: string;
  ready: boolean;
  terminating: boolean;
}

async function helloPods(kubeconfig: string): Promise<PodView[]> {
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
function startExecProbe(path: string, kubeconfig: string) {
  const state = { ok: 0, failures: [] as string[], noReadyPod: 0, stop: false };
  const done = (async () => {
    while (!state.stop) {
      const pods = await helloPods(kubeconfig).catch(() => []);
      const pod = pods.find((p) => p.ready && !p.terminating);
      if (!pod) state.noReadyPod++;
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

const condition = (m: any, type: string) => m?.status?.conditions?.find((c: any) => c.type === type);

describe('draining a kubelet worker before it is removed', () => {
  it('cordons the Node, waits for a blocking PodDisruptionBudget, evicts the pods, keeps the workload up', async () => {
    operator();
    const image = await helloImage();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: CLUSTER,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Kubelet',
      LOCAL_NODE_IMAGES: JSON.stringify([image.archive]),
      WORKER_MACHINE_COUNT: '2',
    });
    expect((await kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    await waitFor(
      'Cluster Ready',
      async () => {
        const c = await getObject(kc, 'clusters', namespace(), CLUSTER);
        return condition(c, 'Ready')?.status === 'True' ? c : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const kubeconfig = await publishedKubeconfig(kc, namespace(), CLUSTER);
    const path = await writeKubeconfig(kubeconfig);
    await waitFor(
      'the default ServiceAccount',
      async () =>
        (await kubectl(['get', 'serviceaccount', 'default', '-o', 'name'], { kubeconfigPath: path })).code ===
        0
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    await workload(path, ['apply', '-f', '-'], helloDeployment(image.ref));
    // minAvailable 2 of 2: no eviction is allowed.
    await workload(path, ['apply', '-f', '-'], budget('hello-all', 2));
    await workload(path, ['rollout', 'status', 'deployment/hello', '--timeout=60s']);
    const before = await helloPods(kubeconfig);
    expect(new Set(before.map((p) => p.node)).size).toBe(2);

    const probe = startExecProbe(path, kubeconfig);
    let minReady = Number.POSITIVE_INFINITY;
    const watchReady = setInterval(() => {
      helloPods(kubeconfig)
        .then((pods) => {
          minReady = Math.min(minReady, pods.filter((p) => p.ready && !p.terminating).length);
        })
        .catch(() => undefined);
    }, 250);
    try {
      expect(
        (await kubectl(['scale', '-n', namespace(), `machinedeployment/${CLUSTER}-workers`, '--replicas=1']))
          .code,
      ).toBe(0);
      const leaving = await waitFor(
        'a worker Machine to be deleting',
        async () =>
          (await listObjects(kc, 'machines', namespace())).find(
            (m) => m.spec.role === 'Worker' && m.metadata.deletionTimestamp,
          ),
        { timeoutMs: 30_000 },
      );
      const node: string = leaving.status.nodeRef.name;
      const staying = before.find((p) => p.node !== node)!.node;

      // Blocked: the Machine waits, says which PDB holds it, and its Node is cordoned.
      const blocked = await waitFor(
        'the drain to be blocked by hello-all',
        async () => {
          const m = await getObject(kc, 'machines', namespace(), leaving.metadata.name);
          return condition(m, 'DrainingSucceeded')?.reason === 'EvictionBlocked' ? m : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const message: string = condition(blocked, 'DrainingSucceeded').message;
      expect(message).toContain('PodDisruptionBudget default/hello-all');
      expect(message).toContain(before.find((p) => p.node === node)!.name);
      expect((await getJSON(kubeconfig, `/api/v1/nodes/${node}`)).spec.unschedulable).toBe(true);
      await new Promise((r) => setTimeout(r, 5_000));
      expect(await getObject(kc, 'machines', namespace(), leaving.metadata.name)).toBeDefined();
      expect((await helloPods(kubeconfig)).filter((p) => p.ready && !p.terminating)).toHaveLength(2);

      // A PDB that allows one disruption: the pod is evicted, its replacement runs on the other node.
      await workload(path, ['delete', 'pdb', 'hello-all']);
      await workload(path, ['apply', '-f', '-'], budget('hello-one', 1));
      await waitFor(
        'the Machine to be gone',
        async () =>
          (await getObject(kc, 'machines', namespace(), leaving.metadata.name)) ? undefined : true,
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      const after = await waitFor(
        '2 Ready hello pods on the remaining node',
        async () => {
          const pods = (await helloPods(kubeconfig)).filter((p) => !p.terminating);
          return pods.length === 2 && pods.every((p) => p.ready) ? pods : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(after.map((p) => p.node)).toEqual([staying, staying]);
    } finally {
      clearInterval(watchReady);
      await probe.stop();
    }
    expect(minReady).toBeGreaterThanOrEqual(1);
    expect(probe.state.failures).toEqual([]);
    expect(probe.state.noReadyPod).toBe(0);
    expect(probe.state.ok).toBeGreaterThan(10);
  }, 240_000);
});
