// The inmemory provider under the real controllers, against the test API server: the cluster template
// applied with kubectl comes up Ready with its Machines Ready and their provider IDs set, a
// startupDelaySeconds holds a machine back for that long and no longer, the kubeconfig Secret holds a
// client certificate from the cluster's CA (issued once), a publisher that needs the workload API says
// WorkloadAPIUnavailable and stays quiet, the workers scale, and deleting the clusters leaves nothing of theirs behind.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { inMemoryAddress } from '../../../providers/inmemory/names.js';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import { createLogger } from '../../../src/runtime/log.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { describeCluster, waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, startTestOperator, waitFor } from '../../support/operator.js';
import { publishedKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const namespace = useTestNamespace('inmemory-op');
const NAME = 'sim';
const SLOW = 'slow';
const DELAY_SECONDS = 6;

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);
const isReady = (o: any) => condition(o, 'Ready')?.status === 'True';

/** The provider's template, rendered; `publish` is added to the Cluster when given. */
async function manifest(name: string, vars: Record<string, string>, publish?: object): Promise<string> {
  const text = renderTemplate(await readFile('templates/inmemory/cluster-template.yaml', 'utf8'), {
    CLUSTER_NAME: name,
    NAMESPACE: namespace(),
    ...vars,
  });
  return parseAllDocuments(text)
    .map((doc) => {
      const obj = doc.toJS();
      if (publish && obj.kind === 'Cluster') obj.spec.publish = publish;
      return stringify(obj);
    })
    .join('---\n');
}

async function apply(text: string): Promise<void> {
  const result = await kubectl(['apply', '-f', '-'], { input: text });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

const machinesOf = async (cluster: string) =>
  (await listObjects(kc, 'machines', namespace())).filter((m) => m.spec.clusterName === cluster);

describe.sequential('an inmemory cluster through the operator', () => {
  let operator: RunningOperator;
  const provider = new InMemoryProvider();

  beforeAll(async () => {
    await installCRDs(kc);
    operator = await startTestOperator(kc, namespace(), [provider]);
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it('comes up Ready from the template: 1 control-plane machine and 2 workers, Ready, with provider IDs', async () => {
    await apply(
      await manifest(NAME, { CONTROL_PLANE_MACHINE_COUNT: '1', WORKER_MACHINE_COUNT: '2' }, { argoCD: {} }),
    );
    const cluster = await waitConverged(kc, namespace(), NAME, 60_000);
    expect(cluster.status.controlPlaneEndpoint).toEqual({
      host: `${NAME}.${namespace()}.inmemory.invalid`,
      port: 6443,
    });
    expect(cluster.status.phase).toBe('Ready');
    const machines = await machinesOf(NAME);
    expect(machines.map((m) => m.spec.role).sort()).toEqual(['ControlPlane', 'Worker', 'Worker']);
    for (const m of machines) {
      const name = m.metadata.name;
      expect(isReady(m), name).toBe(true);
      expect(m.status.phase, name).toBe('Running');
      expect(m.spec.providerID).toBe(`inmemory://${namespace()}/${name}`);
      // Made with its provider ID (it follows from the name): the spec was never patched after.
      expect(m.metadata.generation, name).toBe(1);
      expect(m.status.nodeRef).toEqual({ name });
      expect(m.status.addresses).toContainEqual({
        type: 'InternalIP',
        address: inMemoryAddress(namespace(), name),
      });
    }
  }, 90_000);

  it('publishes the kubeconfig Secret with a client certificate signed by the cluster CA, issued once', async () => {
    const kubeconfig = parse(await publishedKubeconfig(kc, namespace(), NAME));
    const server = kubeconfig.clusters[0].cluster.server;
    expect(server).toBe(`https://${NAME}.${namespace()}.inmemory.invalid:6443`);
    const ca = await core.readNamespacedSecret({ name: `${NAME}-ca`, namespace: namespace() });
    const caPEM = Buffer.from(ca.data!['tls.crt']!, 'base64').toString('utf8');
    const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
    expect(b64(kubeconfig.clusters[0].cluster['certificate-authority-data'])).toBe(caPEM);
    const clientPEM = b64(kubeconfig.users[0].user['client-certificate-data']);
    const client = new X509Certificate(clientPEM);
    const issuer = new X509Certificate(caPEM);
    expect(client.checkIssued(issuer)).toBe(true);
    expect(client.verify(issuer.publicKey)).toBe(true);
    // The provider hands out the certificate it cached, the one in the Secret; it holds one, for one cluster.
    const cluster = await getObject(kc, 'clusters', namespace(), NAME);
    const certificates = await operator.deps.certificates.load(cluster);
    const again = await provider.kubeconfig({
      cluster,
      certificates,
      log: createLogger({ level: 'silent' }),
    });
    expect(again.clientCertData).toBe(clientPEM);
    expect(provider.credentials.size).toBe(1);
  });

  it('reports WorkloadAPIUnavailable for Argo CD, still Ready, and does not retry in a loop', async () => {
    const cluster = await waitFor('the ArgoCDPublished condition', async () => {
      const c = await getObject(kc, 'clusters', namespace(), NAME);
      return condition(c, 'ArgoCDPublished') ? c : undefined;
    });
    const published = condition(cluster, 'ArgoCDPublished');
    expect(published).toMatchObject({ status: 'False', reason: 'WorkloadAPIUnavailable' });
    expect(published.message).toContain(`${NAME}-kubeconfig Secret is still published`);
    expect(isReady(cluster)).toBe(true);
    // Nothing was written for Argo CD, and the Cluster is left alone: no status rewrite within 3 s.
    const argo = await core.listSecretForAllNamespaces({
      labelSelector: `clusterforge.dev/publisher=argocd,clusterforge.dev/cluster-namespace=${namespace()}`,
    });
    expect(argo.items).toEqual([]);
    await new Promise((r) => setTimeout(r, 3_000));
    const later = await getObject(kc, 'clusters', namespace(), NAME);
    expect(later.metadata.resourceVersion).toBe(cluster.metadata.resourceVersion);
    const warnings = await core.listNamespacedEvent({
      namespace: namespace(),
      fieldSelector: `involvedObject.name=${NAME},reason=WorkloadAPIUnavailable`,
    });
    expect(warnings.items).toHaveLength(1);
  });

  it('scales the workers to 5 and back to 1, as machines appear and go', async () => {
    for (const replicas of [5, 1]) {
      const scaled = await kubectl([
        'scale',
        '-n',
        namespace(),
        `machinedeployment.clusterforge.dev/${NAME}-workers`,
        `--replicas=${replicas}`,
      ]);
      expect(scaled.stderr).toBe('');
      await waitFor(
        `${replicas} worker machine(s)`,
        async () =>
          (await machinesOf(NAME)).filter((m) => m.spec.role === 'Worker').length === replicas
            ? true
            : undefined,
        { timeoutMs: 30_000 },
      );
      await waitConverged(kc, namespace(), NAME, 30_000);
    }
    const workers = (await machinesOf(NAME)).filter((m) => m.spec.role === 'Worker');
    expect(workers).toHaveLength(1);
    expect(isReady(workers[0])).toBe(true);
  }, 90_000);

  it(`holds a machine with startupDelaySeconds=${DELAY_SECONDS} back for that long, and makes it Ready after`, async () => {
    await apply(
      await manifest(SLOW, {
        CONTROL_PLANE_MACHINE_COUNT: '1',
        WORKER_MACHINE_COUNT: '1',
        STARTUP_DELAY_SECONDS: String(DELAY_SECONDS),
      }),
    );
    const first = await waitFor('the control-plane machine', async () => (await machinesOf(SLOW))[0]);
    const created = Date.parse(first.metadata.creationTimestamp);
    // Looked at several times inside the delay: never Ready, waiting with the reason said.
    while (Date.now() < created + (DELAY_SECONDS - 1) * 1000) {
      const m = await getObject(kc, 'machines', namespace(), first.metadata.name);
      expect(isReady(m), `Ready ${(Date.now() - created) / 1000}s after creation`).toBe(false);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    const ready = await waitFor(
      'the control-plane machine to be Ready',
      async () => {
        const m = await getObject(kc, 'machines', namespace(), first.metadata.name);
        return isReady(m) ? m : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const readySince = Date.parse(condition(ready, 'Ready').lastTransitionTime);
    expect(readySince - created).toBeGreaterThanOrEqual(DELAY_SECONDS * 1000);
    // Ready on time too: within a few seconds after the delay (and its second), not at a resync.
    expect(readySince - created).toBeLessThanOrEqual((DELAY_SECONDS + 4) * 1000);
    await waitConverged(kc, namespace(), SLOW, 60_000).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await describeCluster(kc, namespace(), SLOW)}`);
    });
    for (const m of await machinesOf(SLOW)) {
      const since = Date.parse(condition(m, 'Ready').lastTransitionTime);
      expect(since - Date.parse(m.metadata.creationTimestamp), m.metadata.name).toBeGreaterThanOrEqual(
        DELAY_SECONDS * 1000,
      );
    }
    expect(provider.credentials.size).toBe(2);
  }, 90_000);

  it('deletes both clusters with nothing of theirs left in the namespace', async () => {
    const result = await kubectl([
      'delete',
      '-n',
      namespace(),
      `cluster.clusterforge.dev/${NAME}`,
      `cluster.clusterforge.dev/${SLOW}`,
      '--wait=false',
    ]);
    expect(result.stderr).toBe('');
    await waitFor(
      'the Clusters to be gone',
      async () => ((await listObjects(kc, 'clusters', namespace())).length === 0 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    for (const plural of ['controlplanes', 'machinedeployments', 'machines']) {
      expect(await listObjects(kc, plural, namespace()), plural).toEqual([]);
    }
    // The certificate and kubeconfig Secrets went with them; so did the cached certificates.
    const secrets = await core.listNamespacedSecret({ namespace: namespace() });
    expect(secrets.items.map((s) => s.metadata?.name)).toEqual([]);
    expect(provider.credentials.size).toBe(0);
    // Nothing is left: the MachineTemplates, owned by the Clusters that used them, went with them.
    const left = await kubectl(['get', 'clusterforge', '-n', namespace(), '-o', 'name']);
    expect(left.stderr).toBe('');
    expect(left.stdout.trim()).toBe('');
  }, 90_000);
});
