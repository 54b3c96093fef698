// The operator's RBAC from `clusterforge init` is enough for a whole local cluster lifecycle, and no more:
// the operator runs (in this process) with a token of the ServiceAccount init made, bound only by init's
// ClusterRole and Role, through create -> Ready -> delete, and no request of its gets a 401 or 403.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalProvider } from '../../../providers/local/provider.js';
import { type RunningOperator, startOperator } from '../../../src/operator/run.js';
import { createLogger } from '../../../src/runtime/log.js';
import { KubeClient, resourcePath } from '../../../src/runtime/transport.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { waitConverged } from '../../support/converge.js';
import {
  kubectl,
  testKubeConfig,
  testKubeconfigPath,
  uniqueName,
  useTestNamespace,
} from '../../support/kube.js';
import { getObject, waitFor } from '../../support/operator.js';
import { processesMentioning } from '../../support/procs.js';
import { runCli } from './cli.js';

const admin = testKubeConfig();
const clustersNamespace = useTestNamespace('cli-rbac');
const operatorNamespace = uniqueName('cf-rbac');
const SA = 'clusterforge-operator';

let stateDir: string;
let operator: RunningOperator | undefined;
let operatorKubeConfig: KubeConfig;

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cli-rbac-state-'));
  // init installs the CRDs, the ServiceAccount, the ClusterRole and Role and their bindings.
  const init = await runCli([
    'init',
    '--kubeconfig',
    testKubeconfigPath(),
    '-n',
    operatorNamespace,
    '--wait=false',
  ]);
  if (init.code !== 0) throw new Error(`init failed (${init.code}): ${init.stderr}`);
  // A token of that ServiceAccount, from the TokenRequest API, as the kubelet would mount it in the pod.
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: SA,
    namespace: operatorNamespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster()!;
  operatorKubeConfig = new KubeConfig();
  operatorKubeConfig.loadFromOptions({
    clusters: [
      {
        name: 'management',
        server: cluster.server,
        ...(cluster.caData ? { caData: cluster.caData } : {}),
        ...(cluster.caFile ? { caData: (await readFile(cluster.caFile)).toString('base64') } : {}),
      },
    ],
    users: [{ name: SA, token: token.status!.token }],
    contexts: [{ name: 'operator', cluster: 'management', user: SA }],
    currentContext: 'operator',
  });
});

afterAll(async () => {
  await operator?.stop();
  for (const p of await processesMentioning(stateDir)) {
    console.error(`rbac.test teardown: killing leftover process ${p.pid}: ${p.cmdline.slice(0, 120)}`);
    process.kill(p.pid, 'SIGKILL');
  }
  await rm(stateDir, { recursive: true, force: true });
  await admin
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: operatorNamespace })
    .catch(() => undefined);
});

describe("the operator's ClusterRole from init", () => {
  it('holds no wildcard, and lets the operator do nothing beyond its work (Pods, Nodes, RBAC)', async () => {
    const role = await kubectl(['get', 'clusterrole', SA, '-o', 'json']);
    expect(role.code, role.stderr).toBe(0);
    expect(JSON.parse(role.stdout).rules).not.toHaveLength(0);
    expect(JSON.stringify(JSON.parse(role.stdout).rules)).not.toContain('*');
    const client = new KubeClient(operatorKubeConfig);
    for (const path of [
      `/api/v1/namespaces/${clustersNamespace()}/pods`,
      '/api/v1/nodes',
      `/api/v1/namespaces/${clustersNamespace()}/services`,
      '/apis/rbac.authorization.k8s.io/v1/clusterroles',
    ]) {
      await expect(client.request({ method: 'GET', path }), path).rejects.toMatchObject({ code: 403 });
    }
    // ConfigMaps (Flux's EKS registration): read by name or found by label, never watched. (Secrets are
    // watched: the operator caches those it made, selected by their label.)
    for (const plural of ['configmaps']) {
      await expect(
        client.request({
          method: 'GET',
          path: resourcePath({ group: '', version: 'v1', plural }, { namespace: clustersNamespace() }),
          query: { watch: 'true', timeoutSeconds: 1 },
        }),
        plural,
      ).rejects.toMatchObject({ code: 403 });
    }
  });

  it('is enough for a local cluster: create -> Ready -> delete, with no request refused', async () => {
    operator = await startOperator({
      kubeConfig: operatorKubeConfig,
      log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
      metricsBindAddress: '127.0.0.1:0',
      namespace: clustersNamespace(),
      providers: [new LocalProvider({ stateDir })],
      leaderElect: true,
      leaderElectionNamespace: operatorNamespace,
      concurrency: 2,
    });
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: 'rbac',
      NAMESPACE: clustersNamespace(),
      WORKER_MACHINE_COUNT: '1',
    });
    const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
    expect(applied.code, applied.stderr).toBe(0);
    await waitConverged(admin, clustersNamespace(), 'rbac', 120_000);

    // The kubeconfig Secret was written (secrets: create), and leader election held its Lease.
    const secret = await admin
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ name: 'rbac-kubeconfig', namespace: clustersNamespace() });
    expect(secret.data?.value).toBeTruthy();
    const lease = await kubectl(['get', 'lease', 'clusterforge-operator', '-o', 'json'], {
      namespace: operatorNamespace,
    });
    expect(lease.code, lease.stderr).toBe(0);
    expect(JSON.parse(lease.stdout).spec.holderIdentity).toBeTruthy();

    const deleted = await kubectl(['delete', 'cluster.clusterforge.dev', 'rbac', '--wait=false'], {
      namespace: clustersNamespace(),
    });
    expect(deleted.code, deleted.stderr).toBe(0);
    await waitFor(
      'cluster rbac to be gone',
      async () => ((await getObject(admin, 'clusters', clustersNamespace(), 'rbac')) ? undefined : true),
      { timeoutMs: 90_000 },
    );
    expect(await processesMentioning(join(stateDir, 'local', clustersNamespace()))).toEqual([]);
    const secrets = await admin
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: clustersNamespace() });
    expect(secrets.items.map((s) => s.metadata?.name)).toEqual([]);

    // Every request the operator made, by verb and HTTP code: none refused.
    const requests = (await operator.manager.metrics.apiRequests.get()).values;
    expect(requests.length).toBeGreaterThan(0);
    const refused = requests.filter((v) => ['401', '403'].includes(String(v.labels.code)));
    expect(refused).toEqual([]);
    // Events were recorded (events: create), which the operator would only log if refused.
    const events = await kubectl(['get', 'events.events.k8s.io', '-o', 'name'], {
      namespace: clustersNamespace(),
    });
    expect(events.stdout.trim()).not.toBe('');
  });
});
