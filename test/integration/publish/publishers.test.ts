import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TOKEN_TTL_ENV } from '../../../src/publish/options.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, uniqueName, useTestNamespace } from '../../support/kube.js';
import { getObject, useOperator, waitFor } from '../../support/operator.js';
import { processesMentioning } from '../../support/procs.js';
import { publishedKubeconfig, writeKubeconfig } from '../../support/workload.js';
import {
  applyFixtureCRDs,
  bearerRequest,
  clusterManifest,
  condition,
  decoded,
  deleteFixtureCRDs,
  nudge,
  readSecret,
  waitForCondition,
} from './support.js';

// The shortest lifetime the TokenRequest API grants; rotation is then checked by ageing the
// published credential rather than by waiting 400 s.
process.env[TOKEN_TTL_ENV] = '10m';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const namespace = useTestNamespace('publish');
const ns = {
  argocd: uniqueName('argocd'),
  istio: uniqueName('istio-system'),
  fleet: uniqueName('fleet'),
  karmada: uniqueName('karmada-cluster'),
};
const NAME = 'pub';

beforeAll(async () => {
  await installCRDs(kc);
  await deleteFixtureCRDs(); // a cluster published before Fleet and Karmada are installed, first
  for (const name of Object.values(ns)) await core.createNamespace({ body: { metadata: { name } } });
});
afterAll(async () => {
  for (const name of Object.values(ns)) await core.deleteNamespace({ name }).catch(() => undefined);
});
const operator = useOperator(namespace);

/** The workload cluster's admin kubeconfig, from the Cluster API Secret, in a file for kubectl. */
async function adminKubeconfigPath(): Promise<string> {
  return writeKubeconfig(await publishedKubeconfig(kc, namespace(), NAME));
}

const argoSecretName = () => `clusterforge-${namespace()}-${NAME}`;

describe('publishing a local cluster', () => {
  let server = '';
  let caPEM = '';

  it('registers the Ready cluster with Argo CD and Istio, and says the Fleet and Karmada CRDs are missing', async () => {
    operator();
    const manifest = await clusterManifest(NAME, namespace(), {
      labels: { env: 'dev', tier: 'gold', private: 'not-copied' },
      publish: {
        argoCD: { namespace: ns.argocd, labels: ['env', 'tier', 'absent'] },
        istio: { namespace: ns.istio, name: 'mesh-west' },
        fleet: { namespace: ns.fleet, labels: ['env'] },
        karmada: { namespace: ns.karmada, name: `member-${namespace()}` },
        flux: {},
      },
    });
    expect((await kubectl(['apply', '-f', '-'], { input: manifest })).stderr).toBe('');
    const cluster = await waitForCondition(
      kc,
      namespace(),
      NAME,
      'ArgoCDPublished',
      (c) => c?.status === 'True',
      90_000,
    );
    await waitForCondition(kc, namespace(), NAME, 'IstioPublished', (c) => c?.status === 'True');
    await waitForCondition(kc, namespace(), NAME, 'FluxPublished', (c) => c?.status === 'True');
    const ready = await waitForCondition(kc, namespace(), NAME, 'Ready', (c) => c?.status === 'True');
    for (const type of ['FleetPublished', 'KarmadaPublished']) {
      const c = condition(ready, type);
      expect(c.status).toBe('False');
      expect(c.reason).toBe('CRDNotInstalled');
    }
    expect(condition(ready, 'FleetPublished').message).toContain('clusters.fleet.cattle.io');
    expect(condition(ready, 'KarmadaPublished').message).toContain('clusters.cluster.karmada.io');
    server = `https://${cluster.status.controlPlaneEndpoint.host}:${cluster.status.controlPlaneEndpoint.port}`;
    const capi = parse(await publishedKubeconfig(kc, namespace(), NAME));
    caPEM = Buffer.from(capi.clusters[0].cluster['certificate-authority-data'], 'base64').toString('utf8');
  });

  it('writes the Argo CD cluster Secret in the format Argo CD reads, with a working cluster-admin token', async () => {
    const secret = await readSecret(kc, ns.argocd, argoSecretName());
    expect(secret).toBeDefined();
    expect(secret!.metadata!.labels).toEqual({
      'argocd.argoproj.io/secret-type': 'cluster',
      env: 'dev',
      tier: 'gold',
      'clusterforge.dev/cluster-name': NAME,
      'clusterforge.dev/cluster-namespace': namespace(),
      'clusterforge.dev/publisher': 'argocd',
    });
    expect(secret!.metadata!.ownerReferences).toBeUndefined();
    expect(Object.keys(secret!.data!).sort()).toEqual(['config', 'name', 'server']);
    expect(decoded(secret, 'name')).toBe(NAME);
    expect(decoded(secret, 'server')).toBe(server);
    const config = JSON.parse(decoded(secret, 'config'));
    expect(Object.keys(config).sort()).toEqual(['bearerToken', 'tlsClientConfig']);
    expect(config.tlsClientConfig).toEqual({
      insecure: false,
      caData: Buffer.from(caPEM).toString('base64'),
    });
    // No admin certificate anywhere in it.
    expect(JSON.stringify(secret!.data)).not.toMatch(/certData|keyData|client-certificate/);

    // A small client, as Argo CD uses the Secret: server, CA from caData, the bearer token.
    const ca = Buffer.from(config.tlsClientConfig.caData, 'base64').toString('utf8');
    const token = config.bearerToken;
    const who = await bearerRequest(
      server,
      ca,
      token,
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'SelfSubjectReview',
      },
    );
    expect(who.status).toBe(201);
    expect(who.body.status.userInfo.username).toBe('system:serviceaccount:clusterforge-consumers:argocd');
    const created = await bearerRequest(server, ca, token, 'POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'deployed-by-argocd' },
      data: { hello: 'world' },
    });
    expect(created.status).toBe(201);
  });

  it('writes the Istio remote secret, whose kubeconfig can read but not write', async () => {
    const secret = await readSecret(kc, ns.istio, 'istio-remote-secret-mesh-west');
    expect(secret!.metadata!.labels!['istio/multiCluster']).toBe('true');
    expect(secret!.metadata!.annotations!['networking.istio.io/cluster']).toBe('mesh-west');
    expect(Object.keys(secret!.data!)).toEqual(['mesh-west']);
    const kubeconfig = decoded(secret, 'mesh-west');
    const doc = parse(kubeconfig);
    expect(doc.clusters[0]).toEqual({
      name: 'mesh-west',
      cluster: { server, 'certificate-authority-data': Buffer.from(caPEM).toString('base64') },
    });
    expect(Object.keys(doc.users[0].user)).toEqual(['token']);
    expect(doc['current-context']).toBe('mesh-west');

    const path = await writeKubeconfig(kubeconfig);
    const read = await kubectl(['get', 'namespaces,services,pods,nodes', '-A', '-o', 'name'], {
      kubeconfigPath: path,
    });
    expect(read.stderr).toBe('');
    expect(read.stdout).toContain('namespace/kube-system');
    const write = await kubectl(['create', 'configmap', 'from-istio', '-n', 'default'], {
      kubeconfigPath: path,
    });
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/forbidden/i);
    expect(write.stderr).toContain('system:serviceaccount:clusterforge-consumers:istio-reader');
    const can = await kubectl(['auth', 'can-i', 'delete', 'pods', '-A'], { kubeconfigPath: path });
    expect(can.stdout.trim()).toBe('no');
  });

  it('writes <cluster>-flux-kubeconfig beside the Cluster for Flux secretRef, with a token of Flux’s own', async () => {
    const secret = await readSecret(kc, namespace(), `${NAME}-flux-kubeconfig`);
    expect(secret).toBeDefined();
    expect(Object.keys(secret!.data!)).toEqual(['value']);
    expect(secret!.metadata!.labels!['clusterforge.dev/publisher']).toBe('flux');
    const config = parse(decoded(secret, 'value'));
    expect(config.clusters[0].cluster.server).toBe(server);
    expect(config.users[0].user['client-key-data']).toBeUndefined();
    const path = await writeKubeconfig(decoded(secret, 'value'));
    const who = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
      kubeconfigPath: path,
    });
    expect(who.stdout).toBe('system:serviceaccount:clusterforge-consumers:flux');
    // Flux applies anything anywhere: it can.
    const can = await kubectl(['auth', 'can-i', 'create', 'deployments', '-A'], { kubeconfigPath: path });
    expect(can.stdout.trim()).toBe('yes');
  });

  it('registers with Fleet and Karmada once their CRDs are installed', async () => {
    await applyFixtureCRDs();
    await nudge(namespace(), NAME);
    await waitForCondition(kc, namespace(), NAME, 'FleetPublished', (c) => c?.status === 'True');
    await waitForCondition(kc, namespace(), NAME, 'KarmadaPublished', (c) => c?.status === 'True');

    const fleetCluster: any = await custom.getNamespacedCustomObject({
      group: 'fleet.cattle.io',
      version: 'v1alpha1',
      namespace: ns.fleet,
      plural: 'clusters',
      name: NAME,
    });
    expect(fleetCluster.spec).toEqual({ kubeConfigSecret: `${NAME}-fleet-kubeconfig` });
    expect(fleetCluster.metadata.labels.env).toBe('dev');
    expect(fleetCluster.metadata.labels.tier).toBeUndefined();
    const fleetSecret = await readSecret(kc, ns.fleet, `${NAME}-fleet-kubeconfig`);
    expect(Object.keys(fleetSecret!.data!)).toEqual(['value']);
    const fleetPath = await writeKubeconfig(decoded(fleetSecret, 'value'));
    const who = await kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], {
      kubeconfigPath: fleetPath,
    });
    expect(who.stdout).toBe('system:serviceaccount:clusterforge-consumers:fleet');

    const member = `member-${namespace()}`;
    const karmadaCluster: any = await custom.getClusterCustomObject({
      group: 'cluster.karmada.io',
      version: 'v1alpha1',
      plural: 'clusters',
      name: member,
    });
    expect(karmadaCluster.spec).toEqual({
      apiEndpoint: server,
      syncMode: 'Push',
      secretRef: { namespace: ns.karmada, name: member },
    });
    expect(karmadaCluster.metadata.labels['clusterforge.dev/cluster-namespace']).toBe(namespace());
    const karmadaSecret = await readSecret(kc, ns.karmada, member);
    expect(Object.keys(karmadaSecret!.data!).sort()).toEqual(['caBundle', 'token']);
    expect(decoded(karmadaSecret, 'caBundle')).toBe(caPEM);
    const nodes = await bearerRequest(server, caPEM, decoded(karmadaSecret, 'token'), 'GET', '/api/v1/nodes');
    expect(nodes.status).toBe(200);
    expect(nodes.body.items).toHaveLength(1);
  });

  it('asks for tokens of the configured lifetime and re-publishes one that is due for rotation', async () => {
    const before = await readSecret(kc, ns.argocd, argoSecretName());
    const issued = Date.parse(before!.metadata!.annotations!['clusterforge.dev/credential-issued-at']!);
    const expires = Date.parse(before!.metadata!.annotations!['clusterforge.dev/credential-expires-at']!);
    expect(Math.abs((expires - issued) / 1000 - 600)).toBeLessThan(5);
    const oldToken = JSON.parse(decoded(before, 'config')).bearerToken;

    // Age the credential as if 500 of its 600 seconds had passed: it is past two thirds of its life.
    const now = Date.now();
    const aged = await kubectl([
      'annotate',
      '-n',
      ns.argocd,
      `secret/${argoSecretName()}`,
      '--overwrite',
      `clusterforge.dev/credential-issued-at=${new Date(now - 500_000).toISOString()}`,
      `clusterforge.dev/credential-expires-at=${new Date(now + 100_000).toISOString()}`,
    ]);
    expect(aged.stderr).toBe('');
    await nudge(namespace(), NAME);
    const after = await waitFor('a new Argo CD token', async () => {
      const s = await readSecret(kc, ns.argocd, argoSecretName());
      const at = Date.parse(s?.metadata?.annotations?.['clusterforge.dev/credential-issued-at'] ?? '');
      return at > now - 1_000 ? s : undefined;
    });
    const newToken = JSON.parse(decoded(after, 'config')).bearerToken;
    expect(newToken).not.toBe(oldToken);
    const ok = await bearerRequest(server, caPEM, newToken, 'GET', '/api/v1/namespaces/kube-system');
    expect(ok.status).toBe(200);
    // The other publishers' credentials were not due: untouched.
    const istio = await readSecret(kc, ns.istio, 'istio-remote-secret-mesh-west');
    expect(Date.parse(istio!.metadata!.annotations!['clusterforge.dev/credential-issued-at']!)).toBeLessThan(
      now,
    );
  });

  it('follows a change of the copied labels', async () => {
    expect(
      (await kubectl(['label', '-n', namespace(), `cluster/${NAME}`, 'env=prod', '--overwrite'])).stderr,
    ).toBe('');
    await waitFor('the Argo CD Secret to be labelled env=prod', async () =>
      (await readSecret(kc, ns.argocd, argoSecretName()))?.metadata?.labels?.env === 'prod'
        ? true
        : undefined,
    );
    expect((await kubectl(['label', '-n', namespace(), `cluster/${NAME}`, 'tier-'])).stderr).toBe('');
    await waitFor('the tier label to leave the Argo CD Secret', async () =>
      (await readSecret(kc, ns.argocd, argoSecretName()))?.metadata?.labels?.tier === undefined
        ? true
        : undefined,
    );
  });

  it('withdraws a publisher taken out of the spec, and revokes its identity in the workload cluster', async () => {
    const istioKubeconfig = decoded(
      await readSecret(kc, ns.istio, 'istio-remote-secret-mesh-west'),
      'mesh-west',
    );
    const patched = await kubectl([
      'patch',
      '-n',
      namespace(),
      `cluster/${NAME}`,
      '--type=json',
      '-p',
      JSON.stringify([{ op: 'remove', path: '/spec/publish/istio' }]),
    ]);
    expect(patched.stderr).toBe('');
    await waitFor('the Istio remote secret to go', async () =>
      (await readSecret(kc, ns.istio, 'istio-remote-secret-mesh-west')) ? undefined : true,
    );
    await waitForCondition(kc, namespace(), NAME, 'IstioPublished', (c) => c === undefined);
    const admin = await adminKubeconfigPath();
    const sa = await kubectl(['get', 'serviceaccount', '-n', 'clusterforge-consumers', '-o', 'name'], {
      kubeconfigPath: admin,
    });
    // `default` is kube-controller-manager's, in every namespace; istio's is gone.
    expect(sa.stdout.split('\n').filter(Boolean).sort()).toEqual([
      'serviceaccount/argocd',
      'serviceaccount/default',
      'serviceaccount/fleet',
      'serviceaccount/flux',
      'serviceaccount/karmada',
    ]);
    // Its tokens die with the ServiceAccount, once the API server's token cache (10 s) lets go of them.
    const istioPath = await writeKubeconfig(istioKubeconfig);
    await waitFor(
      'the withdrawn Istio token to be refused',
      async () => {
        const revoked = await kubectl(['get', 'namespaces'], { kubeconfigPath: istioPath });
        return /Unauthorized|must be logged in/.test(revoked.stderr) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1_000 },
    );
  });

  it('removes every registration when the cluster is deleted, and leaves no process', async () => {
    expect((await kubectl(['delete', '-n', namespace(), `cluster/${NAME}`, '--wait=false'])).stderr).toBe('');
    await waitFor(
      'the Cluster to be gone',
      async () => ((await getObject(kc, 'clusters', namespace(), NAME)) ? undefined : true),
      { timeoutMs: 90_000 },
    );
    expect(await readSecret(kc, ns.argocd, argoSecretName())).toBeUndefined();
    expect(await readSecret(kc, ns.fleet, `${NAME}-fleet-kubeconfig`)).toBeUndefined();
    expect(await readSecret(kc, ns.karmada, `member-${namespace()}`)).toBeUndefined();
    expect(await readSecret(kc, namespace(), `${NAME}-flux-kubeconfig`)).toBeUndefined();
    const leftovers = await kubectl(
      [
        'get',
        'secrets,clusters.fleet.cattle.io,clusters.cluster.karmada.io',
        '-A',
        '-o',
        'name',
        '-l',
      ].concat(`clusterforge.dev/cluster-namespace=${namespace()}`),
    );
    expect(leftovers.stderr).toBe('');
    expect(leftovers.stdout.trim()).toBe('');
    expect(await processesMentioning(operator().stateDir)).toEqual([]);
  });
});
