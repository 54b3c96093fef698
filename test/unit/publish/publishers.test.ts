// The pure parts of the publishers: what each target renders, when a registration must be
// rewritten, the token lifetime setting, and the conditions a reconcile's outcomes become.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type Cluster, cluster as clusterSchema } from '../../../src/api/v1alpha1/index.js';
import { publicationConditions } from '../../../src/controllers/cluster/publish.js';
import type { ObjectWriter } from '../../../src/kube/writer.js';
import { argoCD } from '../../../src/publish/argocd.js';
import { fleet } from '../../../src/publish/fleet.js';
import { flux } from '../../../src/publish/flux.js';
import { istio } from '../../../src/publish/istio.js';
import { karmada } from '../../../src/publish/karmada.js';
import { parseDuration, publishingOptions } from '../../../src/publish/options.js';
import { type Credential, type PublishOutcome, publisherIdOf } from '../../../src/publish/publisher.js';
import {
  copiedLabels,
  finish,
  inputsDigest,
  type RenderInputs,
  refreshTime,
  type TargetDefinition,
} from '../../../src/publish/registration.js';
import { createPublishers } from '../../../src/publish/registry.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n';
const SERVER = 'https://127.0.0.1:6443';
const credential: Credential = {
  token: 'token-1',
  issuedAt: new Date('2030-01-01T00:00:00Z'),
  expiresAt: new Date('2030-01-02T00:00:00Z'),
};

function makeCluster(labels: Record<string, string> = {}, publish: object = {}): Cluster {
  return clusterSchema.parse({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'west', namespace: 'team-a', uid: 'u1', labels },
    spec: { infrastructure: { local: {} }, publish },
  });
}

function inputs(
  def: TargetDefinition,
  cluster = makeCluster(),
  overrides: Partial<RenderInputs> = {},
): RenderInputs {
  const settings = cluster.spec.publish?.[def.target] ?? {};
  return {
    cluster,
    name: settings.name ?? 'west',
    namespace: settings.namespace ?? def.defaultNamespace ?? cluster.metadata.namespace!,
    server: SERVER,
    caPEM: CA,
    copiedLabels: copiedLabels(cluster, settings.labels),
    ...overrides,
  };
}

const text = (b64: unknown) => Buffer.from(String(b64), 'base64').toString('utf8');

describe('what each target writes', () => {
  it('Argo CD: a cluster Secret with name, server and a bearer-token config', () => {
    const cluster = makeCluster({ env: 'prod', secret: 'x' }, { argoCD: { labels: ['env', 'missing'] } });
    const [secret, ...rest] = finish(argoCD, inputs(argoCD, cluster), credential, 'sha256:d');
    expect(rest).toEqual([]);
    expect(secret!.metadata).toEqual({
      name: 'clusterforge-team-a-west',
      namespace: 'argocd',
      labels: {
        env: 'prod',
        'argocd.argoproj.io/secret-type': 'cluster',
        'clusterforge.dev/cluster-name': 'west',
        'clusterforge.dev/cluster-namespace': 'team-a',
        'clusterforge.dev/publisher': 'argocd',
      },
      annotations: {
        'clusterforge.dev/credential-issued-at': '2030-01-01T00:00:00.000Z',
        'clusterforge.dev/credential-expires-at': '2030-01-02T00:00:00.000Z',
        'clusterforge.dev/publish-inputs': 'sha256:d',
      },
    });
    const data = secret!.data as Record<string, string>;
    expect(text(data.name)).toBe('west');
    expect(text(data.server)).toBe(SERVER);
    expect(JSON.parse(text(data.config))).toEqual({
      bearerToken: 'token-1',
      tlsClientConfig: { insecure: false, caData: Buffer.from(CA).toString('base64') },
    });
  });

  it('Istio: a remote secret with the kubeconfig under the cluster name', () => {
    const cluster = makeCluster({}, { istio: { name: 'mesh-east' } });
    const [secret] = finish(istio, inputs(istio, cluster), credential, 'sha256:d');
    expect(secret!.metadata.name).toBe('istio-remote-secret-mesh-east');
    expect(secret!.metadata.namespace).toBe('istio-system');
    expect(secret!.metadata.labels!['istio/multiCluster']).toBe('true');
    expect(secret!.metadata.annotations!['networking.istio.io/cluster']).toBe('mesh-east');
    const kubeconfig = parse(text((secret!.data as Record<string, string>)['mesh-east']));
    expect(kubeconfig.users).toEqual([{ name: 'mesh-east', user: { token: 'token-1' } }]);
    expect(kubeconfig.clusters[0].cluster.server).toBe(SERVER);
    expect(istio.consumer.access).toBe('read-only');
    const verbs = new Set(istio.consumer.rules.flatMap((r) => r.verbs));
    expect([...verbs].sort()).toEqual(['get', 'list', 'watch']);
  });

  it('Fleet: a Cluster naming a Secret beside it with the kubeconfig under `value`', () => {
    const [secret, fleetCluster] = finish(fleet, inputs(fleet), credential, 'sha256:d');
    expect(secret!.kind).toBe('Secret');
    expect(secret!.metadata.name).toBe('west-fleet-kubeconfig');
    expect(Object.keys(secret!.data as object)).toEqual(['value']);
    expect(fleetCluster).toMatchObject({
      apiVersion: 'fleet.cattle.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'west', namespace: 'fleet-default' },
      spec: { kubeConfigSecret: 'west-fleet-kubeconfig' },
    });
  });

  it('Karmada: a cluster-scoped Cluster in Push mode and its token and caBundle Secret', () => {
    const [secret, karmadaCluster] = finish(karmada, inputs(karmada), credential, 'sha256:d');
    expect(secret!.metadata).toMatchObject({ name: 'west', namespace: 'karmada-cluster' });
    const data = secret!.data as Record<string, string>;
    expect(text(data.token)).toBe('token-1');
    expect(text(data.caBundle)).toBe(CA);
    expect(karmadaCluster!.metadata.namespace).toBeUndefined();
    expect(karmadaCluster!.spec).toEqual({
      apiEndpoint: SERVER,
      syncMode: 'Push',
      secretRef: { namespace: 'karmada-cluster', name: 'west' },
    });
  });

  it('never hands out anything but the token: no client certificate, no key', () => {
    for (const def of [argoCD, istio, fleet, karmada, flux]) {
      const all = JSON.stringify(finish(def, inputs(def), credential, 'sha256:d'));
      const decoded = all.replace(/"([A-Za-z0-9+/=]{20,})"/g, (_, b) => text(b));
      expect(decoded, def.tool).not.toMatch(/client-certificate|client-key|PRIVATE KEY/);
    }
  });
});

describe('EKS clusters: tools that bring their own AWS identity', () => {
  const managed = {
    provider: 'aws' as const,
    clusterName: 'team-a_west',
    arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/team-a_west',
    region: 'eu-west-1',
    endpoint: 'https://ABC123.gr7.eu-west-1.eks.amazonaws.com',
  };

  it('Argo CD: the awsAuthConfig form, with the role to assume when the spec names one, and no token', () => {
    const role = 'arn:aws:iam::123456789012:role/argocd';
    const cluster = makeCluster({}, { argoCD: { awsRoleARN: role } });
    const [secret] = finish(argoCD, inputs(argoCD, cluster, { managed }), credential, 'sha256:d');
    expect(JSON.parse(text((secret as any).data.config))).toEqual({
      awsAuthConfig: { clusterName: 'team-a_west', roleARN: role },
      tlsClientConfig: { insecure: false, caData: Buffer.from(CA).toString('base64') },
    });
    expect(argoCD.ownIdentity?.(inputs(argoCD, cluster, { managed }))).toContain(role);
    expect(argoCD.ownIdentity?.(inputs(argoCD, cluster))).toBeUndefined();
  });

  it('the Argo CD role must be an IAM role ARN', () => {
    expect(() => makeCluster({}, { argoCD: { awsRoleARN: 'argocd' } })).toThrow(/awsRoleARN/);
  });

  it('Flux: a ConfigMap for configMapRef with the cluster ARN, the address as EKS lists it and the CA', () => {
    const objects = finish(flux, inputs(flux, makeCluster({}, { flux: {} }), { managed }), credential, 'x');
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject({
      kind: 'ConfigMap',
      metadata: { name: 'west-flux-kubeconfig', namespace: 'team-a' },
      data: { provider: 'aws', cluster: managed.arn, address: managed.endpoint, 'ca.crt': CA },
    });
  });

  it('Flux elsewhere: a Secret for secretRef whose kubeconfig holds Flux’s token, beside the Cluster', () => {
    const [secret] = finish(flux, inputs(flux, makeCluster({}, { flux: {} })), credential, 'x');
    expect(secret).toMatchObject({
      kind: 'Secret',
      metadata: { name: 'west-flux-kubeconfig', namespace: 'team-a' },
    });
    const config = parse(text((secret as any).data.value));
    expect(config.users[0].user).toEqual({ token: 'token-1' });
    expect(config.clusters[0].cluster.server).toBe(SERVER);
  });
});

describe('when a registration is rewritten', () => {
  it('the digest ignores the credential and follows everything else', () => {
    const base = inputs(argoCD);
    const digest = inputsDigest(argoCD, base);
    expect(inputsDigest(argoCD, { ...base })).toBe(digest);
    expect(inputsDigest(argoCD, { ...base, server: 'https://127.0.0.1:7443' })).not.toBe(digest);
    expect(inputsDigest(argoCD, { ...base, copiedLabels: { env: 'dev' } })).not.toBe(digest);
    expect(inputsDigest(argoCD, { ...base, namespace: 'other' })).not.toBe(digest);
    expect(inputsDigest(istio, inputs(istio))).not.toBe(digest);
  });

  it('a token is due at two thirds of its life', () => {
    const at = refreshTime(credential.issuedAt, credential.expiresAt, 2 / 3);
    expect(at.toISOString()).toBe('2030-01-01T16:00:00.000Z');
  });

  it('the token lifetime comes from the environment, never under the API minimum', () => {
    expect(parseDuration('600')).toBe(600);
    expect(parseDuration('90m')).toBe(5400);
    expect(parseDuration('24h')).toBe(86400);
    expect(parseDuration('soon')).toBeUndefined();
    expect(publishingOptions({}).tokenTTLSeconds).toBe(86400);
    expect(publishingOptions({ CLUSTERFORGE_CONSUMER_TOKEN_TTL: '2h' }).tokenTTLSeconds).toBe(7200);
    expect(publishingOptions({ CLUSTERFORGE_CONSUMER_TOKEN_TTL: '60' }).tokenTTLSeconds).toBe(600);
    expect(publishingOptions({ CLUSTERFORGE_CONSUMER_TOKEN_TTL: 'x' }).tokenTTLSeconds).toBe(86400);
  });
});

describe('what each target is called', () => {
  it('its condition, publisher label, tool and default namespace, as docs/publishing.md lists them', () => {
    const publishers = createPublishers({} as ObjectWriter);
    expect(
      publishers.map((p) => [
        p.target,
        p.conditionType,
        publisherIdOf(p.target),
        p.def.tool,
        p.def.defaultNamespace,
      ]),
    ).toEqual([
      ['argoCD', 'ArgoCDPublished', 'argocd', 'Argo CD', 'argocd'],
      ['fleet', 'FleetPublished', 'fleet', 'Fleet', 'fleet-default'],
      ['karmada', 'KarmadaPublished', 'karmada', 'Karmada', 'karmada-cluster'],
      ['istio', 'IstioPublished', 'istio', 'Istio', 'istio-system'],
      ['flux', 'FluxPublished', 'flux', 'Flux', undefined],
    ]);
  });
});

describe('publish conditions', () => {
  it('say what was published or why not, and go when a publisher is withdrawn', () => {
    const outcomes = new Map<string, PublishOutcome>([
      [
        'ArgoCDPublished',
        {
          state: 'published',
          objects: ['Secret argocd/x'],
          message: 'Secret argocd/x; ...',
          refreshAt: new Date(),
          expiresAt: new Date(),
          wrote: true,
        },
      ],
      ['FleetPublished', { state: 'failed', reason: 'CRDNotInstalled', message: 'no CRD', retryAfterMs: 1 }],
      ['IstioPublished', { state: 'withdrawn', removed: [] }],
    ]);
    const before = [
      {
        type: 'IstioPublished',
        status: 'True' as const,
        reason: 'Published',
        message: '',
        lastTransitionTime: '2030-01-01T00:00:00Z',
      },
    ];
    const after = publicationConditions(before, outcomes, 3)!;
    expect(after.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['ArgoCDPublished', 'True', 'Published', 3],
      ['FleetPublished', 'False', 'CRDNotInstalled', 3],
    ]);
  });
});
