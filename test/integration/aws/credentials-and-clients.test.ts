// Credentials from the Secret a Cluster names, read from the real test API server through the
// operator's own Secret reader; and the client factory's promises (one client set per region and
// credential set, AWS_ENDPOINT_URL from the SDK, adaptive retries, errors marked with the IAM action).

import { CreateVpcCommand, DeleteVpcCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { classifyAwsError } from '../../../providers/aws-common/errors.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { secretDataReader } from '../../../src/kube/secret-data.js';
import { ObjectWriter } from '../../../src/kube/writer.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { driveUntilDone } from '../local/fixtures.js';
import { awsCluster, CallCounter, clusterCtx } from './fixtures.js';

describe('credentials from the Cluster’s credentialsRef Secret', () => {
  const namespace = useTestNamespace('aws-creds');
  const factory = new AwsClientFactory();
  const reader = secretDataReader(new ObjectWriter(new KubeClient(testKubeConfig())));
  const provider = new AwsEc2Provider({ clients: factory, secrets: reader });

  beforeAll(async () => {
    const core = testKubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: namespace(),
      body: {
        metadata: { name: 'aws' },
        stringData: { AWS_ACCESS_KEY_ID: 'AKIAFROMSECRET', AWS_SECRET_ACCESS_KEY: 'from-the-secret' },
      },
    });
    await core.createNamespacedSecret({
      namespace: namespace(),
      body: { metadata: { name: 'half' }, stringData: { AWS_ACCESS_KEY_ID: 'AKIAONLY' } },
    });
  });
  afterAll(() => provider.destroy());

  it('uses the keys of the Secret, and removes what it made with them', async () => {
    const get = vi.spyOn(factory, 'get');
    const cluster = awsCluster(namespace(), 'creds', {
      credentialsRef: { name: 'aws' },
      network: { availabilityZoneCount: 1 },
    });
    await driveUntilDone('infrastructure', () => provider.ensureInfrastructure(clusterCtx(cluster)), 60_000);
    expect(get).toHaveBeenCalledWith(
      'us-east-1',
      { accessKeyId: 'AKIAFROMSECRET', secretAccessKey: 'from-the-secret' },
      expect.stringMatching(/^AKIAFROMSECRET:[0-9a-f]{16}$/),
    );
    // The cache key names the credential set without holding the secret.
    expect(get.mock.calls[0]?.[2]).not.toContain('from-the-secret');
    await driveUntilDone(
      'delete',
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      60_000,
    );
  });

  it('names the Secret when it is missing or incomplete, and what is missing', async () => {
    const missing = awsCluster(namespace(), 'missing', { credentialsRef: { name: 'nope' } });
    expect((await provider.ensureInfrastructure(clusterCtx(missing))).progress).toEqual({
      state: 'failed',
      reason: 'CredentialsNotFound',
      message: `Secret ${namespace()}/nope (spec.infrastructure.*.credentialsRef) does not exist`,
    });
    const half = awsCluster(namespace(), 'half', { credentialsRef: { name: 'half' } });
    expect((await provider.ensureInfrastructure(clusterCtx(half))).progress).toMatchObject({
      state: 'failed',
      reason: 'CredentialsInvalid',
      message: expect.stringContaining('has no AWS_SECRET_ACCESS_KEY'),
    });
    const withoutReader = new AwsEc2Provider({ clients: factory });
    expect((await withoutReader.ensureInfrastructure(clusterCtx(half))).progress).toMatchObject({
      state: 'failed',
      reason: 'CredentialsUnavailable',
    });
  });
});

describe('the AWS client factory', () => {
  const calls = new CallCounter();
  const factory = new AwsClientFactory({ onCall: calls.record });
  afterAll(() => factory.destroy());

  it('keeps one client set per region and credential set', () => {
    const a = factory.get('us-east-1', undefined, 'default-chain');
    expect(factory.get('us-east-1', undefined, 'default-chain')).toBe(a);
    expect(factory.get('eu-west-1', undefined, 'default-chain')).not.toBe(a);
    expect(factory.get('us-east-1', { accessKeyId: 'k', secretAccessKey: 's' }, 'k:1')).not.toBe(a);
  });

  it('reaches the endpoint of AWS_ENDPOINT_URL through the SDK, retries adaptively, and names the action of a failure', async () => {
    const clients = factory.get('us-east-1', undefined, 'default-chain');
    expect(await clients.ec2.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    // Nothing in the factory names an endpoint: what it makes is found at the emulator's address.
    const made = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16' }));
    const direct = new EC2Client({ region: 'us-east-1', endpoint: inject('awsEndpoint') });
    const seen = await direct.send(new DescribeVpcsCommand({ VpcIds: [made.Vpc?.VpcId as string] }));
    expect(seen.Vpcs?.[0]?.CidrBlock).toBe('10.99.0.0/16');
    await direct.send(new DeleteVpcCommand({ VpcId: made.Vpc?.VpcId }));
    direct.destroy();
    calls.reset();
    const err = await clients.ec2
      .send(new DescribeVpcsCommand({ VpcIds: ['vpc-0123456789abcdef0'] }))
      .catch((e) => e);
    expect(classifyAwsError(err)).toMatchObject({
      kind: 'notFound',
      code: 'InvalidVpcID.NotFound',
      action: 'ec2:DescribeVpcs',
    });
    expect(calls.snapshot()).toEqual({ 'ec2:DescribeVpcs': 1 });
  });
});
