// Scaling kubelet workers down drains the removed Node first, as `kubectl drain` would: it is cordoned,
// its pods are evicted through the Eviction API (a PodDisruptionBudget that allows no disruption holds
// the Machine back, and its condition names it), and the workload keeps answering throughout.
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { helloDeployment, helloImage, helloPods, startExecProbe, workload } from '../../support/hello.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, useOperator, waitFor } from '../../support/operator.js';
import { getJSON, publishedKubeconfig, writeKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('drain');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const CLUSTER = 'drain';

const budget = (name: string, minAvailable: number) =>
  JSON.stringify({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec: { minAvailable, selector: { matchLabels: { app: 'hello' } } },
  });

const condition = (m: any, type: string) => m?.status?.conditions?.find((c: any) => c.type === type);

const machine = (name: string) => getObject(kc, 'machines', namespace(), name);

async function scaleWorkers(replicas: number): Promise<any> {
  const before = new Set(
    (await listObjects(kc, 'machines', namespace()))
      .filter((m) => m.metadata.deletionTimestamp)
      .map((m) => m.metadata.name),
  );
  const out = await kubectl([
    'scale',
    '-n',
    namespace(),
    `machinedeployment/${CLUSTER}-workers`,
    `--replicas=${replicas}`,
  ]);
  expect(out.stderr).toBe('');
  return waitFor(
    'a worker Machine to be deleting',
    async () =>
      (await listObjects(kc, 'machines', namespace())).find(
        (m) => m.spec.role === 'Worker' && m.metadata.deletionTimestamp && !before.has(m.metadata.name),
      ),
    { timeoutMs: 30_000 },
  );
}

async function patchWorkers(spec: object): Promise<void> {
  const body = JSON.stringify({ spec });
  const out = await kubectl([
    'patch',
    '-n',
    namespace(),
    `machinedeployment/${CLUSTER}-workers`,
    '--type=merge',
    '-p',
    body,
  ]);
  expect(out.stderr).toBe('');
}

/** The Machine's DrainingSucceeded condition once it is blocked by `budget`. */
function blockedBy(name: string, budget: string): Promise<any> {
  return waitFor(
    `the drain of ${name} to be blocked by ${budget}`,
    async () => {
      const c = condition(await machine(name), 'DrainingSucceeded');
      return c?.reason === 'EvictionBlocked' && c.message.includes(`PodDisruptionBudget default/${budget}`)
        ? c
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}

const gone = (name: string, timeoutMs: number) =>
  waitFor(`Machine ${name} to be gone`, async () => ((await machine(name)) ? undefined : true), {
    timeoutMs,
    intervalMs: 500,
  });

/** The reasons of the Events about a Machine, in the management cluster. */
async function eventReasons(name: string): Promise<string[]> {
  const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace: namespace(),
    fieldSelector: `involvedObject.name=${name},involvedObject.kind=Machine`,
  });
  return events.items.map((e) => e.reason ?? '');
}

describe('draining a kubelet worker before it is removed', () => {
  it('cordons the Node, waits for a blocking PodDisruptionBudget until nodeDrainTimeout or the PDB changes, evicts the pods, keeps the workload up', async () => {
    operator();
    const image = await helloImage();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: CLUSTER,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Kubelet',
      LOCAL_NODE_IMAGES: JSON.stringify([image.archive]),
      WORKER_MACHINE_COUNT: '3',
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
    // minAvailable 3 of 3: no eviction is allowed.
    await workload(path, ['apply', '-f', '-'], budget('hello-all', 3));
    await workload(path, ['rollout', 'status', 'deployment/hello', '--timeout=60s']);
    expect(new Set((await helloPods(kubeconfig)).map((p) => p.node)).size).toBe(3);

    // 3 -> 2, blocked; a nodeDrainTimeout set on the MachineDeployment reaches the draining Machine,
    // which then goes with its pod still there.
    const first = await scaleWorkers(2);
    await blockedBy(first.metadata.name, 'hello-all');
    expect((await getJSON(kubeconfig, `/api/v1/nodes/${first.status.nodeRef.name}`)).spec.unschedulable).toBe(
      true,
    );
    await patchWorkers({ nodeDrainTimeout: '5s' });
    await gone(first.metadata.name, 60_000);
    expect(await eventReasons(first.metadata.name)).toEqual(
      expect.arrayContaining(['EvictionBlocked', 'DrainTimedOut', 'Deleted']),
    );
    expect(await eventReasons(first.metadata.name)).not.toContain('Drained');
    // Taken off again, it is taken off the Machines too: the next drain waits for ever.
    await patchWorkers({ nodeDrainTimeout: null });
    await waitFor(
      'the Machines without nodeDrainTimeout',
      async () => {
        const workers = (await listObjects(kc, 'machines', namespace())).filter(
          (m) => m.spec.role === 'Worker',
        );
        return workers.length === 2 && workers.every((m) => m.spec.nodeDrainTimeout === undefined)
          ? true
          : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const live = async () => {
      const nodes = (await getJSON(kubeconfig, '/api/v1/nodes')).items.map((n: any) => n.metadata.name);
      return (await helloPods(kubeconfig)).filter((p) => nodes.includes(p.node) && !p.terminating);
    };
    // The pod lost with the Node comes back on a live one (pod garbage collection, then the ReplicaSet).
    await waitFor(
      '3 Ready hello pods, all on live nodes',
      async () => {
        const all = await helloPods(kubeconfig);
        const pods = await live();
        return all.length === 3 && pods.length === 3 && pods.every((p) => p.ready) ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );

    // 2 -> 1 with the workload answering throughout.
    const probe = startExecProbe(path, kubeconfig);
    let minReady = Number.POSITIVE_INFINITY;
    const watchReady = setInterval(() => {
      live()
        .then((pods) => {
          minReady = Math.min(minReady, pods.filter((p) => p.ready).length);
        })
        .catch(() => undefined);
    }, 250);
    try {
      const second = await scaleWorkers(1);
      const node: string = second.status.nodeRef.name;
      const held = await blockedBy(second.metadata.name, 'hello-all');
      const onNode = (await live()).filter((p) => p.node === node);
      expect(onNode.length).toBeGreaterThan(0);
      for (const p of onNode) expect(held.message).toContain(p.name);
      expect((await getJSON(kubeconfig, `/api/v1/nodes/${node}`)).spec.unschedulable).toBe(true);
      // Without a timeout it keeps waiting, and evicts nothing.
      await new Promise((r) => setTimeout(r, 8_000));
      expect(await machine(second.metadata.name)).toBeDefined();
      expect((await live()).filter((p) => p.ready)).toHaveLength(3);

      // The blocking PDB deleted, one that allows disruptions: the pods are evicted to the other node.
      await workload(path, ['delete', 'pdb', 'hello-all']);
      await workload(path, ['apply', '-f', '-'], budget('hello-one', 1));
      await gone(second.metadata.name, 60_000);
      const staying = (await listObjects(kc, 'machines', namespace())).find((m) => m.spec.role === 'Worker')
        .status.nodeRef.name;
      const after = await waitFor(
        '3 Ready hello pods on the remaining node',
        async () => {
          const pods = (await helloPods(kubeconfig)).filter((p) => !p.terminating);
          return pods.length === 3 && pods.every((p) => p.ready) ? pods : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(after.map((p) => p.node)).toEqual([staying, staying, staying]);
      // The Machine went once its Node had no pod left to evict, not with its pods on it.
      expect(await eventReasons(second.metadata.name)).toEqual(
        expect.arrayContaining(['EvictionBlocked', 'Drained', 'Deleted']),
      );
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
