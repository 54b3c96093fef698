// The whole life of a local cluster, as a user drives it with kubectl: create, scale workers and
// control plane, upgrade one minor with the API answering throughout, delete with nothing left.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/templates/render.js';
import { kubeVersions } from '../../env/assets.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { helloDeployment, helloImage, helloPods, startExecProbe, workload } from '../../support/hello.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { KUBE_BUILD_WAIT_MS, waitForKubeBinaries } from '../../support/kube-binaries.js';
import { deleteClusterAndWait, listObjects, useOperator, waitFor } from '../../support/operator.js';
import { processesMentioning } from '../../support/procs.js';
import { getJSON, publishedKubeconfig, startProbe, writeKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('local-life');
beforeAll(async () => installCRDs(kc));
beforeAll(() => waitForKubeBinaries(previous!), KUBE_BUILD_WAIT_MS);
const operator = useOperator(namespace);

const [newest, previous] = kubeVersions();
const NAME = 'life';

async function nodes(kubeconfigPath: string): Promise<string[]> {
  const out = await kubectl(
    [
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.nodeInfo.kubeletVersion}{"\\n"}{end}',
    ],
    {
      kubeconfigPath,
    },
  );
  expect(out.stderr).toBe('');
  return out.stdout.trim().split('\n').filter(Boolean).sort();
}

async function scale(kind: string, name: string, replicas: number) {
  const out = await kubectl(['scale', '-n', namespace(), `${kind}/${name}`, `--replicas=${replicas}`]);
  expect(out.stderr).toBe('');
}

describe.sequential(`a local cluster from ${previous} to ${newest}`, () => {
  let kubeconfigPath = '';

  it('comes up Ready and its published kubeconfig works with kubectl', async () => {
    operator();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: NAME,
      NAMESPACE: namespace(),
      KUBERNETES_VERSION: previous!,
      LOCAL_NODE_IMAGES: JSON.stringify([(await helloImage()).archive]),
    });
    expect((await kubectl(['apply', '-f', '-'], { input: manifest })).stderr).toBe('');
    const cluster = await waitConverged(kc, namespace(), NAME);
    expect(cluster.status.phase).toBe('Ready');
    expect(cluster.status.version).toBe(previous);
    kubeconfigPath = await writeKubeconfig(await publishedKubeconfig(kc, namespace(), NAME));
    expect(await nodes(kubeconfigPath)).toHaveLength(2);
    const version = await getJSON(await readFile(kubeconfigPath, 'utf8'), '/version');
    expect(version.gitVersion).toBe(previous);
  }, 180_000);

  it('scales workers 2 -> 4 -> 1, and the workload cluster sees the Nodes come and go', async () => {
    await scale('machinedeployment', `${NAME}-workers`, 4);
    await waitConverged(kc, namespace(), NAME);
    expect(await nodes(kubeconfigPath)).toHaveLength(4);
    await scale('machinedeployment', `${NAME}-workers`, 1);
    await waitConverged(kc, namespace(), NAME);
    const left = await nodes(kubeconfigPath);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(new RegExp(`=${previous!.replaceAll('.', '\\.')}$`));
  }, 180_000);

  it('scales the control plane 1 -> 3', async () => {
    await scale('controlplane', `${NAME}-control-plane`, 3);
    await waitConverged(kc, namespace(), NAME);
    const machines = (await listObjects(kc, 'machines', namespace())).filter(
      (m) => m.spec.role === 'ControlPlane',
    );
    expect(machines.map((m) => m.status?.phase)).toEqual(['Running', 'Running', 'Running']);
    // Each machine runs a kube-controller-manager and a kube-scheduler; one of each leads.
    const procs = await processesMentioning(operator().provider.clusterDir(namespace(), NAME));
    expect(procs.filter((p) => p.cmdline.includes('kube-controller-manager --'))).toHaveLength(3);
    expect(procs.filter((p) => p.cmdline.includes('kube-scheduler --'))).toHaveLength(3);
    for (const lease of ['kube-controller-manager', 'kube-scheduler']) {
      const holder = await kubectl(
        ['get', 'lease', '-n', 'kube-system', lease, '-o', 'jsonpath={.spec.holderIdentity}'],
        { kubeconfigPath },
      );
      expect(holder.stdout).not.toBe('');
    }
  }, 180_000);

  it(`upgrades to ${newest}, control plane first, with the API and a workload answering throughout`, async () => {
    // Two hello pods on the kubelet worker and a budget of one disruption: the worker's replacement
    // drains it one pod at a time, and a pod answers all along.
    const kubeconfig = await readFile(kubeconfigPath, 'utf8');
    const image = await helloImage();
    await workload(kubeconfigPath, ['apply', '-f', '-'], helloDeployment(image.ref, 2));
    await workload(
      kubeconfigPath,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'policy/v1',
        kind: 'PodDisruptionBudget',
        metadata: { name: 'hello', namespace: 'default' },
        spec: { minAvailable: 1, selector: { matchLabels: { app: 'hello' } } },
      }),
    );
    await workload(kubeconfigPath, ['rollout', 'status', 'deployment/hello', '--timeout=120s']);
    const workloadProbe = startExecProbe(kubeconfigPath, kubeconfig);
    const probe = startProbe(kubeconfig);
    for (const [plural, name] of [
      ['controlplane', `${NAME}-control-plane`],
      ['machinedeployment', `${NAME}-workers`],
    ] as const) {
      const out = await kubectl([
        'patch',
        '-n',
        namespace(),
        `${plural}/${name}`,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { version: newest } }),
      ]);
      expect(out.stderr).toBe('');
    }
    const cluster = await waitFor(
      `cluster at ${newest}`,
      async () => {
        const c = await waitConverged(kc, namespace(), NAME, 240_000);
        return c.status.version === newest ? c : undefined;
      },
      { timeoutMs: 300_000 },
    );
    const counts = await probe.stop();
    await workloadProbe.stop();
    expect(workloadProbe.state.failures).toEqual([]);
    expect(workloadProbe.state.noReadyPod, JSON.stringify(workloadProbe.state)).toBe(0);
    expect(workloadProbe.state.ok).toBeGreaterThan(10);
    // The pods run on the new kubelet now.
    const pods = await helloPods(kubeconfig);
    expect(pods.filter((p) => p.ready)).toHaveLength(2);
    expect(cluster.status.phase).toBe('Ready');
    expect(counts.errors).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThan(20);
    expect([...counts.versions].sort()).toEqual([previous, newest].sort());
    expect((await getJSON(await readFile(kubeconfigPath, 'utf8'), '/version')).gitVersion).toBe(newest);
    expect((await nodes(kubeconfigPath)).every((n) => n.endsWith(`=${newest}`))).toBe(true);
  }, 360_000);

  it('deletes the cluster and leaves no process, no Secret and no state folder', async () => {
    const clusterDir = operator().provider.clusterDir(namespace(), NAME);
    expect(existsSync(clusterDir)).toBe(true);
    await deleteClusterAndWait(kc, namespace(), NAME);
    for (const plural of ['controlplanes', 'machinedeployments', 'machines']) {
      expect(await listObjects(kc, plural, namespace())).toEqual([]);
    }
    const secrets = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({
      namespace: namespace(),
      labelSelector: `cluster.x-k8s.io/cluster-name=${NAME}`,
    });
    expect(secrets.items.map((s) => s.metadata?.name)).toEqual([]);
    expect(existsSync(clusterDir)).toBe(false);
    expect(await processesMentioning(clusterDir)).toEqual([]);
  }, 180_000);
});
