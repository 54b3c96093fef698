// The test environment itself: a real kube-apiserver + etcd and a real AWS API emulator.

import { DescribeRegionsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AuthenticationV1Api, CoreV1Api, KubeConfig, VersionApi, Watch } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { kubeVersions } from '../env/assets.js';
import { kubectl, testKubeConfig, usePrivateKubeEnv, useTestNamespace } from '../support/kube.js';

/** A KubeConfig that authenticates with a bearer token against the server of `admin`. */
function tokenKubeConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the admin kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'test', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: 'token', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'token' }],
    currentContext: 'test',
  });
  return kc;
}

describe('the shared test API server', () => {
  const namespace = useTestNamespace('env');

  it('answers /version with the expected Kubernetes version', async () => {
    const info = await testKubeConfig().makeApiClient(VersionApi).getCode();
    expect(info.gitVersion).toBe(inject('kubeVersion'));
    if (!process.env.KUBEBUILDER_ASSETS && !process.env.CLUSTERFORGE_TEST_KUBE_VERSION) {
      expect(info.gitVersion).toBe(kubeVersions()[0]);
    }
  });

  it('authorizes with RBAC: a ServiceAccount token may not list Secrets cluster-wide', async () => {
    const admin = testKubeConfig();
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedServiceAccount({
      namespace: namespace(),
      body: { metadata: { name: 'reader' } },
    });
    const tokenRequest = await core.createNamespacedServiceAccountToken({
      name: 'reader',
      namespace: namespace(),
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const token = tokenRequest.status?.token;
    expect(token).toBeTruthy();
    const asReader = tokenKubeConfig(admin, token as string);

    // The token authenticates (so a refusal below is authorization's, not authentication's)...
    const review = await asReader.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(`system:serviceaccount:${namespace()}:reader`);
    // ...and RBAC refuses what no Role grants.
    await expect(asReader.makeApiClient(CoreV1Api).listSecretForAllNamespaces()).rejects.toMatchObject({
      code: 403,
    });
    // The admin (group system:masters) may.
    await expect(core.listSecretForAllNamespaces()).resolves.toBeDefined();
  });

  it('creates and reads objects in the test namespace (client and kubectl)', async () => {
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: 'hello' }, data: { greeting: 'hi' } },
    });
    const read = await core.readNamespacedConfigMap({ name: 'hello', namespace: namespace() });
    expect(read.data).toEqual({ greeting: 'hi' });

    const applied = await kubectl(['apply', '-f', '-'], {
      namespace: namespace(),
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-kubectl\ndata:\n  a: "1"\n',
    });
    expect(applied.stderr).not.toMatch(/error/i);
    expect(applied.code).toBe(0);
    const got = await kubectl(['get', 'configmap', 'from-kubectl', '-o', 'jsonpath={.data.a}'], {
      namespace: namespace(),
    });
    expect(got).toMatchObject({ code: 0, stdout: '1' });
    const missing = await kubectl(['get', 'configmap', 'nope'], { namespace: namespace() });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NotFound/);
  });
});

describe('a private test environment', () => {
  const env = usePrivateKubeEnv();

  it('restartApiServer() brings the API server back on the same endpoint', async () => {
    const { server, kubeConfig } = env();
    const core = kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'survivor' } } });

    await env().restartApiServer();

    expect(env().server).toBe(server);
    expect(kubeConfig.getCurrentCluster()?.server).toBe(server);
    // The same client, unchanged, talks to the new process; the data lived on in etcd.
    const read = await core.readNamespacedConfigMap({ name: 'survivor', namespace: 'default' });
    expect(read.metadata?.name).toBe('survivor');
  });

  it('compactEtcd() (then a restart empties the watch cache): old resourceVersions get 410 Gone', async () => {
    const { kubeConfig } = env();
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const created = await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'compacted' }, data: { n: '0' } },
    });
    const oldVersion = created.metadata?.resourceVersion as string;
    for (let n = 1; n <= 3; n++) {
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: `later-${n}` } },
      });
    }

    await env().compactEtcd();
    await env().restartApiServer();

    await expect(
      core.listNamespacedConfigMap({
        namespace: 'default',
        resourceVersion: oldVersion,
        resourceVersionMatch: 'Exact',
      }),
    ).rejects.toMatchObject({ code: 410 });

    const firstEvent = await new Promise<{ type: string; object: { code?: number } }>((resolve, reject) => {
      let request: { abort(): void } | undefined;
      new Watch(kubeConfig)
        .watch(
          '/api/v1/namespaces/default/configmaps',
          { resourceVersion: oldVersion, allowWatchBookmarks: true },
          (type, object) => {
            resolve({ type, object });
            request?.abort();
          },
          (err) => (err ? reject(err) : undefined),
        )
        .then((r) => {
          request = r;
        }, reject);
    });
    expect(firstEvent.type).toBe('ERROR');
    expect(firstEvent.object.code).toBe(410);
  });
});

describe('the AWS API emulator', () => {
  it('is what AWS_ENDPOINT_URL points at, with dummy credentials', () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(inject('awsEndpoint'));
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('testing');
    expect(process.env.AWS_REGION).toBe('us-east-1');
  });

  it('answers EC2 DescribeRegions and STS GetCallerIdentity', async () => {
    // No endpoint, region or credentials in code: the SDK takes them from the environment.
    const ec2 = new EC2Client({});
    const regions = await ec2.send(new DescribeRegionsCommand({}));
    expect(regions.Regions?.map((r) => r.RegionName)).toContain('us-east-1');

    const sts = new STSClient({});
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toMatch(/^\d{12}$/);
  });
});
