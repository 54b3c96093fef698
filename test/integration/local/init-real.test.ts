// `clusterforge init` for real: a local cluster with a kubelet worker (real kubelet and containerd;
// kube-controller-manager and kube-scheduler beside its API server) is the management cluster, its
// node imported the operator image that `make image` built and a re-tagged copy of it. The real CLI
// installs the operator there; the Deployment rolls out on the node, /readyz answers from the pod, and
// the operator in the pod brings an aws-ec2 cluster (AWS: the test environment's emulator) to Ready
// with none of its requests refused by RBAC. A second init changes nothing; init with the other tag
// rolls the Deployment and the new pod takes the leader Lease. Then the Helm chart takes the install
// over with the same settings (helm upgrade --install --take-ownership), its pod rolls out on the node
// and takes the Lease, and deletes the aws-ec2 cluster.
//
// The node has no kube-proxy, so the `kubernetes` Service does not route: init runs the operator with
// --host-network and --api-server (docs/cli.md#init), as on a cluster with Cilium's kube-proxy
// replacement. The emulator's load balancers answer nothing, so the management cluster also stands in
// for the aws-ec2 cluster's API (CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG_DATA, docs/providers/aws.md);
// it and the image owner reach the pod as keys of the credentials Secret, which the pod has as envFrom.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { IMAGE_OWNERS_ENV } from '../../../providers/aws-ec2/services/images.js';
import { WORKLOAD_KUBECONFIG_DATA_ENV } from '../../../providers/aws-ec2/workload-from-env.js';
import { hostLeftovers, nodePaths } from '../../../providers/local/kubelet/node.js';
import { clusterPaths, machinePaths } from '../../../providers/local/state.js';
import { AWS_CREDENTIALS_SECRET, OPERATOR_NAME } from '../../../src/cli/install/manifests.js';
import { LEADER_ELECTION_LEASE } from '../../../src/cli/install/rbac.js';
import { freePort } from '../../../src/net/ports.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { runCli } from '../../e2e/cli/cli.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { CHART, type Helm, startHelm } from '../../support/helm.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import {
  deleteClusterAndWait,
  getObject,
  listObjects,
  useOperator,
  waitFor,
} from '../../support/operator.js';
import { buildOperatorImage, type OperatorImage, retagImage } from '../../support/operator-image.js';
import { publishedKubeconfig, writeKubeconfig } from '../../support/workload.js';
import { capaImage, ownedInventory, uniqueNamespace } from '../aws/fixtures.js';

const started = Date.now();
const kc = testKubeConfig();
const namespace = useTestNamespace('init-real');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const MGMT = 'mgmt';
const SYSTEM = 'clusterforge-system';
const EC2 = 'inpod';
const VERSION = 'v1.37.2';
// The aws-ec2 cluster's namespace in the management cluster; unique, as its tags are in the shared emulator.
const ec2Namespace = uniqueNamespace('init-real');
const selector = 'app.kubernetes.io/name=clusterforge,app.kubernetes.io/component=operator';

const figures: string[] = [];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
let dir: string;
let image: OperatorImage;
let next: OperatorImage;
let mgmtPath: string;
let mgmtKc: KubeConfig;
let initArgs: string[];
let metricsPort: number;
let helm: Helm | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clusterforge-init-real-'));
  image = await buildOperatorImage();
  next = await retagImage(image, `${image.ref}-next`, dir);
}, 600_000);
afterAll(async () => {
  // Helm's own state; its release record goes with the management cluster.
  await helm?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
  figures.push(`whole file: ${seconds(Date.now() - started)}`);
  console.log(figures.join('\n'));
});

/** kubectl against the management cluster; throws with its stderr when it fails. */
async function mgmt(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, { kubeconfigPath: mgmtPath, ...(input ? { input } : {}) });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}
const mgmtJSON = async (args: string[]) => JSON.parse(await mgmt([...args, '-o', 'json']));

async function operatorPods(): Promise<any[]> {
  return (await mgmtJSON(['get', 'pods', '-n', SYSTEM, '-l', selector])).items;
}
const isReady = (p: any) => p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

/** The operator's pods, their logs and the Deployment's status, for a timeout message. */
async function describeOperator(): Promise<string> {
  const pods = await operatorPods().catch((e) => [String(e)]);
  const logs = await kubectl(['logs', '-n', SYSTEM, `deployment/${OPERATOR_NAME}`, '--tail=30'], {
    kubeconfigPath: mgmtPath,
  });
  return `${JSON.stringify(pods.map((p: any) => ({ name: p.metadata?.name, status: p.status })))}\n${logs.stdout}${logs.stderr}`;
}

/** init with the flags of this file and an image; the results it prints (-o json), by object. */
async function init(
  ref: string,
): Promise<{ kind: string; name: string; namespace?: string; result: string }[]> {
  const out = await runCli([...initArgs, '--image', ref, '-o', 'json'], { timeoutMs: 200_000 });
  if (out.code !== 0) throw new Error(`init exited ${out.code}: ${out.stderr}\n${await describeOperator()}`);
  return JSON.parse(out.stdout).items;
}

/** Every request the pod's operator made, by verb, code and resource, from its /metrics. */
async function apiRequests(podIP: string): Promise<{ labels: string; count: number }[]> {
  const text = await (await fetch(`http://${podIP}:${metricsPort}/metrics`)).text();
  return [...text.matchAll(/^clusterforge_api_requests_total\{([^}]*)\} (\d+)$/gm)].map((m) => ({
    labels: m[1] as string,
    count: Number(m[2]),
  }));
}

async function expectNoneRefused(pod: any): Promise<void> {
  const requests = await apiRequests(pod.status.podIP);
  expect(requests.filter((r) => r.labels.includes('code="200"')).length).toBeGreaterThan(0);
  expect(requests.filter((r) => /code="40[13]"/.test(r.labels))).toEqual([]);
  const logs = await mgmt(['logs', '-n', SYSTEM, pod.metadata.name]);
  expect(logs).not.toMatch(/forbidden|\b403\b|Unauthorized/i);
}

async function leaseHolder(): Promise<string> {
  const lease = await mgmtJSON(['get', 'lease', '-n', SYSTEM, LEADER_ELECTION_LEASE]).catch(() => undefined);
  return lease?.spec?.holderIdentity ?? '';
}

describe.sequential('clusterforge init on a management cluster with a real node', () => {
  it('the management cluster: a local cluster whose kubelet worker imported both tags of the image', async () => {
    const t = Date.now();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: MGMT,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Kubelet',
      LOCAL_NODE_IMAGES: JSON.stringify([image.archive, next.archive]),
      WORKER_MACHINE_COUNT: '1',
    });
    await kubectl(['apply', '-f', '-'], { input: manifest });
    await waitConverged(kc, namespace(), MGMT, 180_000);
    figures.push(`management cluster (local, 1 kubelet worker) apply → Ready: ${seconds(Date.now() - t)}`);
    mgmtPath = await writeKubeconfig(await publishedKubeconfig(kc, namespace(), MGMT));
    mgmtKc = new KubeConfig();
    mgmtKc.loadFromFile(mgmtPath);
    const nodes = (await mgmtJSON(['get', 'nodes'])).items;
    expect(nodes).toHaveLength(1);
    expect(nodes[0].status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:/);
  }, 240_000);

  it('init rolls the operator out on the node, and /readyz answers from its pod', async () => {
    const server = new URL(mgmtKc.getCurrentCluster()?.server as string);
    metricsPort = await freePort();
    initArgs = [
      'init',
      '--kubeconfig',
      mgmtPath,
      '--infrastructure',
      'aws-ec2',
      '--host-network',
      '--api-server',
      `${server.hostname}:${server.port}`,
      '--metrics-port',
      String(metricsPort),
      '--wait-timeout',
      '3m',
    ];
    // What the pod's operator needs beyond init's AWS variables, in the Secret it reads as envFrom.
    await mgmt(['create', 'namespace', SYSTEM]);
    await mgmt([
      'create',
      'secret',
      'generic',
      AWS_CREDENTIALS_SECRET,
      '-n',
      SYSTEM,
      `--from-literal=${IMAGE_OWNERS_ENV}=${await capaImage(VERSION)}`,
      `--from-file=${WORKLOAD_KUBECONFIG_DATA_ENV}=${mgmtPath}`,
    ]);

    const t = Date.now();
    const results = await init(image.ref);
    figures.push(`init → operator pod Ready (init's own wait): ${seconds(Date.now() - t)}`);
    expect(results.find((r) => r.kind === 'Deployment')?.result).toBe('created');
    const [pod, ...others] = await operatorPods();
    expect(others).toEqual([]);
    expect(isReady(pod)).toBe(true);
    expect(pod.spec.hostNetwork).toBe(true);
    expect(pod.spec.nodeName).toBe((await mgmtJSON(['get', 'nodes'])).items[0].metadata.name);
    expect(pod.status.containerStatuses[0].image).toContain(image.ref);
    const readyz = await fetch(`http://${pod.status.podIP}:${metricsPort}/readyz`);
    expect(readyz.status).toBe(200);
    // The operator found the API server through the override, with its ServiceAccount's token, and
    // names its pod (not the node, whose hostname it has) in the Lease.
    await waitFor(
      'the pod to hold the leader Lease',
      async () => ((await leaseHolder()).startsWith(`${pod.metadata.name}_`) ? true : undefined),
      { timeoutMs: 30_000, describe: async () => `holder: ${await leaseHolder()}` },
    );
  }, 240_000);

  it('the operator in the pod brings an aws-ec2 cluster to Ready, with no request refused by RBAC', async () => {
    await mgmt(['create', 'namespace', ec2Namespace]);
    const manifest = renderTemplate(await readFile('templates/aws-ec2/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: EC2,
      NAMESPACE: ec2Namespace,
      AWS_AZ_COUNT: '2',
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '1',
      KUBERNETES_VERSION: VERSION,
    });
    const t = Date.now();
    await mgmt(['apply', '-f', '-'], manifest);
    const cluster = await waitConverged(mgmtKc, ec2Namespace, EC2, 180_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await describeOperator()}`);
    });
    figures.push(
      `in-pod aws-ec2 cluster (1 control plane, 1 worker, 2 zones) apply → Ready: ${seconds(Date.now() - t)}`,
    );
    expect(cluster.status.controlPlaneEndpoint.host).toMatch(/\.elb\.amazonaws\.com$/);
    expect(
      (await ownedInventory(clusterTagKey({ namespace: ec2Namespace, name: EC2 }))).instance,
    ).toHaveLength(2);
    const [pod] = await operatorPods();
    await expectNoneRefused(pod);
  }, 240_000);

  it('init a second time changes nothing', async () => {
    const [before] = await operatorPods();
    const versions = async (objects: { kind: string; name: string; namespace?: string }[]) => {
      const list = await mgmtJSON(['get', ...objects.map((o) => `${o.kind}/${o.name}`), '-n', SYSTEM]);
      return Object.fromEntries(
        list.items.map((o: any) => [`${o.kind}/${o.metadata.name}`, o.metadata.resourceVersion]),
      );
    };
    const applied = (await mgmtJSON(['get', 'deployment', '-n', SYSTEM, OPERATOR_NAME])).metadata.generation;
    const results = await init(image.ref);
    const first = await versions(results);
    expect(results.map((r) => r.result)).toEqual(results.map(() => 'unchanged'));
    expect(results.length).toBeGreaterThanOrEqual(14);
    const again = await init(image.ref);
    expect(again.map((r) => r.result)).toEqual(again.map(() => 'unchanged'));
    expect(await versions(again)).toEqual(first);
    expect((await mgmtJSON(['get', 'deployment', '-n', SYSTEM, OPERATOR_NAME])).metadata.generation).toBe(
      applied,
    );
    const [after, ...others] = await operatorPods();
    expect(others).toEqual([]);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.status.containerStatuses[0].restartCount).toBe(0);
  }, 240_000);

  it('init with a newer image rolls the Deployment, and the new pod takes over the leader Lease', async () => {
    const [old] = await operatorPods();
    expect(await leaseHolder()).toMatch(new RegExp(`^${old.metadata.name}_`));
    const t = Date.now();
    const results = await init(next.ref);
    const rolled = Date.now() - t;
    expect(results.find((r) => r.kind === 'Deployment')?.result).toBe('configured');
    expect(results.filter((r) => r.result !== 'unchanged').map((r) => r.kind)).toEqual(['Deployment']);
    const deployment = await mgmtJSON(['get', 'deployment', '-n', SYSTEM, OPERATOR_NAME]);
    expect(deployment.spec.template.spec.containers[0].image).toBe(next.ref);
    const pods = await waitFor('the old pod to be gone', async () => {
      const now = await operatorPods();
      return now.length === 1 ? now : undefined;
    });
    const pod = pods[0];
    expect(pod.metadata.name).not.toBe(old.metadata.name);
    expect(isReady(pod)).toBe(true);
    // The pod asks for the new tag; the kubelet reports the image by whichever of its two tags the
    // runtime lists first, as both name one image ID (the same content).
    expect(pod.spec.containers[0].image).toBe(next.ref);
    expect(pod.status.containerStatuses[0].imageID).toBe(old.status.containerStatuses[0].imageID);
    await waitFor(
      'the new pod to hold the leader Lease',
      async () => ((await leaseHolder()).startsWith(`${pod.metadata.name}_`) ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250, describe: async () => `holder: ${await leaseHolder()}` },
    );
    figures.push(
      `init --image <newer>: rolled out in ${seconds(rolled)}, Lease taken by the new pod after ${seconds(Date.now() - t)}`,
    );
  }, 240_000);

  it('helm upgrade --install --take-ownership with the same settings rolls the chart out on the node', async () => {
    const [old] = await operatorPods();
    const server = new URL(mgmtKc.getCurrentCluster()?.server as string);
    const tagAt = next.ref.lastIndexOf(':');
    helm = await startHelm();
    const t = Date.now();
    // As a user moving from init to the chart: the same settings as values, the Secret init made by
    // reference (the chart never holds credentials), adopting every object init applied. Helm 4 applies
    // server-side, and init's field manager owns those fields (the CRDs' too): --force-conflicts.
    const installed = await helm([
      'upgrade',
      '--install',
      'clusterforge',
      CHART,
      '--kubeconfig',
      mgmtPath,
      '--namespace',
      SYSTEM,
      '--take-ownership',
      '--force-conflicts',
      ...[
        `image.repository=${next.ref.slice(0, tagAt)}`,
        `image.tag=${next.ref.slice(tagAt + 1)}`,
        'providers={aws-ec2}',
        `aws.credentialsSecret=${AWS_CREDENTIALS_SECRET}`,
        'hostNetwork=true',
        `apiServer.host=${server.hostname}`,
        `apiServer.port=${server.port}`,
        `metricsPort=${metricsPort}`,
      ].flatMap((v) => ['--set', v]),
    ]);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('STATUS: deployed');
    const deployment = await mgmtJSON(['get', 'deployment', '-n', SYSTEM, OPERATOR_NAME]);
    expect(deployment.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(deployment.metadata.annotations['meta.helm.sh/release-name']).toBe('clusterforge');
    expect(deployment.spec.template.spec.containers[0].image).toBe(next.ref);
    const ns = await mgmtJSON(['get', 'namespace', SYSTEM]);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    // The pod template's managed-by label changed: the Deployment rolls, the old pod going first.
    const pod = await waitFor(
      "the chart's pod to be the only one, Ready",
      async () => {
        const now = await operatorPods();
        const [p] = now;
        return now.length === 1 && p.metadata.name !== old.metadata.name && isReady(p) ? p : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, describe: describeOperator },
    );
    const ready = Date.now() - t;
    expect(pod.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(pod.spec.hostNetwork).toBe(true);
    expect((await fetch(`http://${pod.status.podIP}:${metricsPort}/readyz`)).status).toBe(200);
    await waitFor(
      "the chart's pod to hold the leader Lease",
      async () => ((await leaseHolder()).startsWith(`${pod.metadata.name}_`) ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250, describe: async () => `holder: ${await leaseHolder()}` },
    );
    figures.push(
      `helm upgrade --install --take-ownership: new pod Ready in ${seconds(ready)}, Lease taken after ${seconds(Date.now() - t)}`,
    );
  }, 240_000);

  it("the chart's pod deletes the aws-ec2 cluster, leaving nothing in the emulator; the management cluster goes, leaving nothing on the host", async () => {
    expect(
      (await mgmt(['delete', '-n', ec2Namespace, `cluster.clusterforge.dev/${EC2}`, '--wait=false'])).trim(),
    ).not.toBe('');
    const t = Date.now();
    await waitFor(
      'the aws-ec2 cluster to be gone',
      async () => ((await getObject(mgmtKc, 'clusters', ec2Namespace, EC2)) ? undefined : true),
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        describe: describeOperator,
      },
    );
    figures.push(`in-pod aws-ec2 cluster delete → gone: ${seconds(Date.now() - t)}`);
    expect(
      Object.values(await ownedInventory(clusterTagKey({ namespace: ec2Namespace, name: EC2 }))).flat(),
    ).toEqual([]);
    const [pod] = await operatorPods();
    await expectNoneRefused(pod);

    const [worker] = (await listObjects(kc, 'machines', namespace()))
      .filter((m: any) => m.spec.role === 'Worker')
      .map((m: any) => m.metadata.name as string);
    await deleteClusterAndWait(kc, namespace(), MGMT, 120_000);
    const node = nodePaths(
      machinePaths(clusterPaths(operator().stateDir, namespace(), MGMT), worker as string),
    );
    expect(await hostLeftovers(node)).toEqual({ processes: [], cgroups: [], bridge: false });
  }, 300_000);
});
