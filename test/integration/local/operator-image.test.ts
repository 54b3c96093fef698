// The operator image that `make image` writes (hack/operator-image.sh, no Docker) runs: a kubelet
// worker of a local cluster imports it, and pods from it print the CLI's version and help, run as
// uid 65532 (the image's user, no securityContext says so), find the CA bundle, and have no shell;
// the operator in a pod from it gets Ready on /readyz and reconciles an in-memory cluster to Ready.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostLeftovers, nodePaths } from '../../../providers/local/kubelet/node.js';
import { clusterPaths, machinePaths } from '../../../providers/local/state.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import {
  deleteClusterAndWait,
  getObject,
  listObjects,
  useOperator,
  waitFor,
} from '../../support/operator.js';
import { writeKubeconfig } from '../../support/workload.js';

const run = promisify(execFile);
const kc = testKubeConfig();
const namespace = useTestNamespace('operator-image');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const CLUSTER = 'img';
const packageVersion = JSON.parse(await readFile('package.json', 'utf8')).version as string;

interface Image {
  archive: string;
  ref: string;
  config: any;
}
let image: Image;

// `make image` as a user runs it: cached by content, so seconds when nothing changed (a cold build,
// Node and Debian packages fetched, takes about a minute).
beforeAll(async () => {
  const { stdout } = await run('make', ['-s', 'image'], { timeout: 600_000, maxBuffer: 1 << 24 });
  const archive = stdout.trim().split('\n').at(-1) as string;
  const ref = (await readFile(archive.replace(/\.tar$/, '.ref'), 'utf8')).trim();
  const blob = async (digest: string) =>
    (
      await run('tar', ['-xOf', archive, `blobs/sha256/${digest.replace('sha256:', '')}`], {
        maxBuffer: 1 << 20,
      })
    ).stdout;
  const index = JSON.parse((await run('tar', ['-xOf', archive, 'index.json'])).stdout);
  const manifest = JSON.parse(await blob(index.manifests[0].digest));
  image = { archive, ref, config: JSON.parse(await blob(manifest.config.digest)) };
}, 600_000);

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

// What the container reports about itself: its user, as the kernel and /etc/passwd see it, and the CA bundle.
const WHOAMI = `const fs = require('node:fs'), os = require('node:os');
const pem = fs.readFileSync(process.env.SSL_CERT_FILE, 'utf8');
console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), user: os.userInfo().username,
  cas: pem.split('BEGIN CERTIFICATE').length - 1, tmp: (fs.writeFileSync('/tmp/x', 'x'), 'writable') }));`;

function cliPod(ref: string) {
  const container = (name: string, spec: object) => ({ name, image: ref, imagePullPolicy: 'Never', ...spec });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'cli', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      containers: [
        container('version', { args: ['version', '-o', 'json'] }),
        container('help', { args: ['operator', '--help'] }),
        container('whoami', { command: ['/usr/local/bin/node', '-e', WHOAMI] }),
      ],
    },
  };
}

// No shell in the image: a container that asks for one cannot start.
function shellPod(ref: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'shell', namespace: 'default' },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      containers: [{ name: 'sh', image: ref, imagePullPolicy: 'Never', command: ['/bin/sh', '-c', 'true'] }],
    },
  };
}

function operatorPod(ref: string, kubeconfig: string, port: number) {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'operator-kubeconfig', namespace: 'default' },
        stringData: { kubeconfig },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'operator', namespace: 'default' },
        spec: {
          hostNetwork: true,
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'operator',
              image: ref,
              imagePullPolicy: 'Never',
              args: [
                'operator',
                '--kubeconfig=/etc/clusterforge/kubeconfig',
                `--metrics-bind-address=127.0.0.1:${port}`,
              ],
              readinessProbe: { httpGet: { host: '127.0.0.1', port, path: '/readyz' }, periodSeconds: 1 },
              volumeMounts: [{ name: 'kubeconfig', mountPath: '/etc/clusterforge', readOnly: true }],
            },
          ],
          volumes: [{ name: 'kubeconfig', secret: { secretName: 'operator-kubeconfig' } }],
        },
      },
    ],
  };
}

describe('the operator image (make image)', () => {
  it('says what it is: its name, labels, non-root user and entrypoint', () => {
    expect(image.ref).toBe(`ghcr.io/clusterforge/clusterforge:v${packageVersion}`);
    expect(image.config.config).toMatchObject({
      User: '65532:65532',
      Entrypoint: ['/usr/local/bin/node', '/app/bin/clusterforge.js'],
      Labels: {
        'org.opencontainers.image.version': packageVersion,
        'org.opencontainers.image.source': expect.stringMatching(/^https:\/\//),
        'org.opencontainers.image.revision': expect.stringMatching(/^[0-9a-f]{40}$/),
      },
    });
  });

  it('runs on a kubelet worker that imported it: the CLI as uid 65532, and the operator reconciling', async () => {
    operator();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: CLUSTER,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Kubelet',
      LOCAL_NODE_IMAGES: JSON.stringify([image.archive]),
      WORKER_MACHINE_COUNT: '1',
    });
    await kubectl(['apply', '-f', '-'], { input: manifest });
    await waitFor(
      'Cluster Ready',
      async () => {
        const c = await getObject(kc, 'clusters', namespace(), CLUSTER);
        return c?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')
          ? c
          : undefined;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 500,
        describe: async () => JSON.stringify((await getObject(kc, 'clusters', namespace(), CLUSTER))?.status),
      },
    );
    const path = await workloadKubeconfig();
    // Pods are admitted once kube-controller-manager made the namespace's default ServiceAccount.
    await waitFor(
      'the default ServiceAccount',
      async () =>
        (await kubectl(['get', 'serviceaccount', 'default', '-o', 'name'], { kubeconfigPath: path })).code ===
        0
          ? true
          : undefined,
      { timeoutMs: 30_000, intervalMs: 500 },
    );

    await workload(['apply', '-f', '-'], path, JSON.stringify(cliPod(image.ref)));
    await workload(['apply', '-f', '-'], path, JSON.stringify(shellPod(image.ref)));
    const pod = async (name: string) => JSON.parse(await workload(['get', 'pod', name, '-o', 'json'], path));
    const done = await waitFor(
      'pod cli Succeeded',
      async () => {
        const p = await pod('cli');
        if (p.status.phase === 'Failed') throw new Error(`pod cli failed: ${JSON.stringify(p.status)}`);
        return p.status.phase === 'Succeeded' ? p : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        describe: async () => JSON.stringify((await pod('cli')).status),
      },
    );
    const logs = (container: string) => workload(['logs', 'cli', '-c', container], path);

    expect(JSON.parse(await logs('version'))).toMatchObject({
      clusterforge: packageVersion,
      node: expect.stringMatching(/^v20\./),
    });
    expect(await logs('help')).toContain('Usage: clusterforge operator');
    const me = JSON.parse(await logs('whoami'));
    expect(me).toMatchObject({ uid: 65532, gid: 65532, user: 'nonroot', tmp: 'writable' });
    expect(me.cas).toBeGreaterThan(100);
    // The kubelet's view agrees: the image the node imported, no root.
    for (const status of done.status.containerStatuses) {
      expect(status.image).toContain(image.ref);
      expect(status.state.terminated.exitCode).toBe(0);
    }

    const shell = await waitFor(
      'pod shell to fail to start',
      async () => {
        const s = (await pod('shell')).status.containerStatuses?.[0];
        return s?.state?.terminated || s?.state?.waiting?.reason?.match(/Error/) ? s : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(JSON.stringify(shell.state)).toMatch(/no such file or directory|StartError|RunContainerError/);

    // The operator itself, in a pod, against this cluster's API server (its CRDs installed) through a
    // kubeconfig mounted from a Secret: host network, as no kube-proxy routes the kubernetes Service.
    await workload(['apply', '--server-side', '-f', 'crds/'], path);
    const kubeconfigText = await readFile(path, 'utf8');
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    await workload(['apply', '-f', '-'], path, JSON.stringify(operatorPod(image.ref, kubeconfigText, port)));
    await waitFor(
      'the operator pod Ready (/readyz)',
      async () => {
        const p = await pod('operator');
        if (p.status.phase === 'Failed') throw new Error(`pod operator failed: ${JSON.stringify(p.status)}`);
        return p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')
          ? p
          : undefined;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 1_000,
        describe: async () =>
          `${JSON.stringify((await pod('operator')).status)}\n${(await kubectl(['logs', 'operator'], { kubeconfigPath: path })).stdout}`,
      },
    );
    // ... and reconciles: an in-memory cluster applied to that API server becomes Ready.
    const inmemory = renderTemplate(await readFile('templates/inmemory/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: 'mem',
      NAMESPACE: 'default',
      WORKER_MACHINE_COUNT: '1',
    });
    await workload(['apply', '-f', '-'], path, inmemory);
    await workload(['wait', 'cluster/mem', '--for=condition=Ready', '--timeout=60s'], path);
    expect(await workload(['logs', 'operator'], path)).toContain('controller started');

    // Deleting the cluster leaves nothing of its node on the host.
    const [worker] = (await listObjects(kc, 'machines', namespace()))
      .filter((m: any) => m.spec.role === 'Worker')
      .map((m: any) => m.metadata.name as string);
    await deleteClusterAndWait(kc, namespace(), CLUSTER, 120_000);
    const node = nodePaths(
      machinePaths(clusterPaths(join(operator().stateDir), namespace(), CLUSTER), worker as string),
    );
    expect(await hostLeftovers(node)).toEqual({ processes: [], cgroups: [], bridge: false });
  }, 420_000);
});
