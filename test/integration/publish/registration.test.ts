// The publisher engine against the real API server, without a workload cluster: the tokens come
// from a TokenSource of the test's own (our interface, not the Kubernetes client). What it proves:
// an idle reconcile writes nothing, a foreign object of the same name is never touched, a missing
// namespace is said as such, a moved registration leaves nothing behind, removal finds everything.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, cluster as clusterSchema } from '../../../src/api/v1alpha1/index.js';
import { ObjectWriter } from '../../../src/kube/writer.js';
import { argoCD } from '../../../src/publish/argocd.js';
import type {
  ConsumerRole,
  Credential,
  PublishMaterial,
  PublishOutcome,
  TokenSource,
} from '../../../src/publish/publisher.js';
import { Registration } from '../../../src/publish/registration.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, uniqueName, useTestNamespace } from '../../support/kube.js';
import { decoded, readSecret } from './support.js';

class CountingTokens implements TokenSource {
  issued = 0;
  revoked: string[] = [];
  async issue(_role: ConsumerRole): Promise<Credential> {
    this.issued++;
    const issuedAt = new Date();
    return { token: `token-${this.issued}`, issuedAt, expiresAt: new Date(issuedAt.getTime() + 600_000) };
  }
  async revoke(role: ConsumerRole): Promise<void> {
    this.revoked.push(role.serviceAccount);
  }
}

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const writer = new ObjectWriter(new KubeClient(kc));
const namespace = useTestNamespace('registration');
const target = uniqueName('argocd');
const elsewhere = uniqueName('argocd-b');
beforeAll(async () => {
  for (const name of [target, elsewhere]) await core.createNamespace({ body: { metadata: { name } } });
});
afterAll(async () => {
  for (const name of [target, elsewhere]) await core.deleteNamespace({ name }).catch(() => undefined);
});

function makeCluster(name: string, argoNamespace: string): Cluster {
  return clusterSchema.parse({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name, namespace: namespace(), uid: `uid-${name}` },
    spec: { infrastructure: { local: {} }, publish: { argoCD: { namespace: argoNamespace } } },
  });
}

const material = (tokens: TokenSource, now = new Date()): PublishMaterial => ({
  server: 'https://127.0.0.1:6443',
  caPEM: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  tokens,
  now,
  refreshAfter: 2 / 3,
});

const published = (o: PublishOutcome) => {
  if (o.state !== 'published') throw new Error(`not published: ${JSON.stringify(o)}`);
  return o;
};

describe('a registration', () => {
  const tokens = new CountingTokens();
  const publisher = new Registration(argoCD, writer);
  const secretName = () => `clusterforge-${namespace()}-one`;

  it('is written once, and an idle reconcile writes nothing', async () => {
    const cluster = makeCluster('one', target);
    expect(published(await publisher.ensure(cluster, material(tokens))).wrote).toBe(true);
    const first = await readSecret(kc, target, secretName());
    for (let i = 0; i < 3; i++) {
      expect(published(await publisher.ensure(cluster, material(tokens))).wrote).toBe(false);
    }
    const later = await readSecret(kc, target, secretName());
    expect(later!.metadata!.resourceVersion).toBe(first!.metadata!.resourceVersion);
    expect(tokens.issued).toBe(1);
  });

  it('is re-issued at two thirds of its credential life, not before', async () => {
    const cluster = makeCluster('one', target);
    const inSixMinutes = new Date(Date.now() + 6 * 60_000);
    expect(published(await publisher.ensure(cluster, material(tokens, inSixMinutes))).wrote).toBe(false);
    const inSevenMinutes = new Date(Date.now() + 7 * 60_000);
    expect(published(await publisher.ensure(cluster, material(tokens, inSevenMinutes))).wrote).toBe(true);
    expect(tokens.issued).toBe(2);
    expect(JSON.parse(decoded(await readSecret(kc, target, secretName()), 'config')).bearerToken).toBe(
      'token-2',
    );
  });

  it('never touches an object of the same name that is not its own', async () => {
    const cluster = makeCluster('two', target);
    const name = `clusterforge-${namespace()}-two`;
    await core.createNamespacedSecret({
      namespace: target,
      body: { metadata: { name }, stringData: { name: 'hand-made' } },
    });
    const outcome = await publisher.ensure(cluster, material(tokens));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'NameTaken' });
    expect(decoded(await readSecret(kc, target, name), 'name')).toBe('hand-made');
    // Nor does removal.
    expect(await publisher.remove(cluster)).toEqual({ state: 'withdrawn', removed: [] });
    expect(await readSecret(kc, target, name)).toBeDefined();
  });

  it('says when the namespace does not exist', async () => {
    const outcome = await publisher.ensure(makeCluster('three', uniqueName('absent')), material(tokens));
    expect(outcome).toMatchObject({ state: 'failed', reason: 'NamespaceNotFound' });
  });

  it('moves with spec.publish.argoCD.namespace and leaves nothing behind', async () => {
    const moved = makeCluster('one', elsewhere);
    const outcome = published(await publisher.ensure(moved, material(tokens)));
    expect(outcome.wrote).toBe(true);
    expect(await readSecret(kc, elsewhere, secretName())).toBeDefined();
    expect(await readSecret(kc, target, secretName())).toBeUndefined();
  });

  it('is removed wherever it is, and the consumer revoked when asked', async () => {
    const outcome = await publisher.remove(makeCluster('one', target), tokens);
    expect(outcome).toEqual({ state: 'withdrawn', removed: [`Secret ${elsewhere}/${secretName()}`] });
    expect(tokens.revoked).toEqual(['argocd']);
    expect(await readSecret(kc, elsewhere, secretName())).toBeUndefined();
  });
});
