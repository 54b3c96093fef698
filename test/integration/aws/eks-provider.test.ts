// The aws-eks provider driven directly against the AWS API emulator over real HTTP with the real SDK.
// moto has no UpdateClusterVersion and no UpdateNodegroupVersion (HTTP 404): exactly those two calls
// are faked at the SDK's edge (a middleware on the provider's EKS client, below), and the test checks
// what the provider asked them for. Everything else goes to the emulator.
import {
  CreateNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  EKSClient,
  ListClustersCommand,
} from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { clusterTagKey, ownedTags } from '../../../providers/aws-common/tags.js';
import { AwsEksProvider } from '../../../providers/aws-eks/provider.js';
import { eksClusterName } from '../../../providers/aws-eks/services/controlplane.js';
import {
  type Cluster,
  type ControlPlane,
  cluster as clusterSchema,
  controlPlane as controlPlaneSchema,
  type MachineDeployment,
  type MachineTemplate,
  machineDeployment as machineDeploymentSchema,
  machineTemplate as machineTemplateSchema,
} from '../../../src/api/v1alpha1/index.js';
import type { Progress } from '../../../src/provider/contract.js';
import { driveUntilDone } from '../local/fixtures.js';
import { CallCounter, clusterCtx, ownedInventory, REGION, uniqueNamespace } from './fixtures.js';

const TIMEOUT = 60_000;
const ROLE = 'arn:aws:iam::123456789012:role/eks-control-plane';
const NODE_ROLE = 'arn:aws:iam::123456789012:role/eks-nodes';
/** The calls moto lacks, faked at the SDK edge: what the provider sent them. */
const FAKED = new Set(['UpdateClusterVersionCommand', 'UpdateNodegroupVersionCommand']);

describe('aws-eks provider against the AWS API emulator', () => {
  const namespace = uniqueNamespace('eks');
  const calls = new CallCounter();
  const faked: { command: string; input: Record<string, unknown> }[] = [];
  const factory = new AwsClientFactory({
    onCall: calls.record,
    onClient: (client, service) => {
      if (service !== 'eks') return;
      (client as EKSClient).middlewareStack.add(
        (next, context) => async (args) => {
          const command = String(context.commandName);
          if (!FAKED.has(command)) return next(args);
          faked.push({ command, input: args.input as Record<string, unknown> });
          const update = { id: `fake-${faked.length}`, status: 'InProgress', type: 'VersionUpdate' };
          return { output: { update, $metadata: { httpStatusCode: 200 } }, response: {} } as never;
        },
        { step: 'initialize', name: 'fakeCallsTheEmulatorLacks' },
      );
    },
  });
  let provider = new AwsEksProvider({ clients: factory });
  let cluster: Cluster;
  let tagKey: string;
  let eksName: string;
  let template: MachineTemplate;
  let pool: MachineDeployment;
  let eks: EKSClient;
  const figures: string[] = [];

  const controlPlane = (version: string): ControlPlane =>
    controlPlaneSchema.parse({
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name: 'eks-cp', namespace, uid: 'cp-uid' },
      spec: { version, replicas: 1, machineTemplateRef: { name: 'unused' } },
    });
  const poolOf = (replicas: number, version: string, generation = 1): MachineDeployment =>
    machineDeploymentSchema.parse({
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: 'workers', namespace, uid: 'pool-uid', generation },
      spec: { clusterName: 'prod', replicas, version, machineTemplateRef: { name: 'eks-nodes' } },
    });
  const run = (what: string, step: () => Promise<Progress>) =>
    driveUntilDone(what, async () => ({ progress: await step() }), TIMEOUT);

  beforeAll(() => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(inject('awsEndpoint'));
    eks = new EKSClient({ region: REGION });
    cluster = clusterSchema.parse({
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'Cluster',
      metadata: { name: 'prod', namespace, uid: `uid-${namespace}` },
      spec: {
        infrastructure: {
          awsEKS: {
            region: REGION,
            roleARN: ROLE,
            nodeRoleARN: NODE_ROLE,
            network: { availabilityZoneCount: 2 },
          },
        },
      },
    });
    tagKey = clusterTagKey({ namespace, name: 'prod' });
    eksName = eksClusterName({ namespace, name: 'prod' });
    template = machineTemplateSchema.parse({
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'MachineTemplate',
      metadata: { name: 'eks-nodes', namespace },
      spec: {
        template: { spec: { awsEKS: { instanceTypes: ['m7i.large', 'm6i.large'], capacityType: 'SPOT' } } },
      },
    });
    pool = poolOf(2, 'v1.31.4');
  });

  afterAll(() => {
    provider.destroy();
    eks?.destroy();
    console.log(figures.join('\n\n'));
  });

  it('makes the network, then an EKS cluster that reaches ACTIVE, with its endpoint', async () => {
    calls.reset();
    const network = await driveUntilDone(
      'network',
      () => provider.ensureInfrastructure(clusterCtx(cluster)),
      TIMEOUT,
    );
    expect(network.endpoint).toBeUndefined();
    const status = await driveUntilDone(
      'control plane',
      () => provider.ensureManagedControlPlane(clusterCtx(cluster), controlPlane('v1.31.4')),
      TIMEOUT,
    );
    figures.push(calls.format('EKS network + control plane to ACTIVE'));
    expect(status.endpoint?.host).toMatch(/\.eks\.amazonaws\.com$/);
    expect(status.endpoint?.port).toBe(443);
    const inv = await ownedInventory(tagKey);
    expect(inv.subnet).toHaveLength(4);
    expect(inv.securityGroup).toHaveLength(0); // EKS makes its own cluster security group
    expect(inv.loadBalancer).toHaveLength(0);
    const described = (await eks.send(new DescribeClusterCommand({ name: eksName }))).cluster;
    expect(described).toMatchObject({ status: 'ACTIVE', version: '1.31', roleArn: ROLE });
    expect(described?.resourcesVpcConfig?.subnetIds?.sort()).toEqual([...inv.subnet].sort());
    expect(described?.tags?.[tagKey]).toBe('owned');
    // Again, and from a new process: no second cluster.
    provider = new AwsEksProvider({ clients: factory });
    const again = await provider.ensureManagedControlPlane(clusterCtx(cluster), controlPlane('v1.31.4'));
    expect(again.progress).toEqual({ state: 'done' });
    expect(calls.count('CreateCluster')).toBe(1);
    expect((await provider.ensureInfrastructure(clusterCtx(cluster))).endpoint).toEqual(status.endpoint);
  });

  it('a MachineDeployment becomes a managed node group, scaled with UpdateNodegroupConfig', async () => {
    const created = await driveUntilDone(
      'node group',
      () => provider.ensureNodePool(clusterCtx(cluster), pool, template),
      TIMEOUT,
    );
    expect(created).toMatchObject({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, version: 'v1.31' });
    const ng = (
      await eks.send(new DescribeNodegroupCommand({ clusterName: eksName, nodegroupName: 'workers' }))
    ).nodegroup;
    expect(ng).toMatchObject({
      status: 'ACTIVE',
      version: '1.31',
      nodeRole: NODE_ROLE,
      instanceTypes: ['m7i.large', 'm6i.large'],
      capacityType: 'SPOT',
      amiType: 'AL2023_x86_64_STANDARD',
      diskSize: 40,
      scalingConfig: { minSize: 0, maxSize: 2, desiredSize: 2 },
      labels: { 'clusterforge.dev/cluster-name': 'prod', 'clusterforge.dev/deployment-name': 'workers' },
    });
    expect(ng?.tags?.[tagKey]).toBe('owned');
    const inv = await ownedInventory(tagKey);
    const privates = ng?.subnets ?? [];
    expect(privates).toHaveLength(2);
    expect(inv.subnet).toEqual(expect.arrayContaining(privates));

    calls.reset();
    await driveUntilDone(
      'scale up',
      () => provider.ensureNodePool(clusterCtx(cluster), poolOf(5, 'v1.31.4', 2), template),
      TIMEOUT,
    );
    expect(calls.count('UpdateNodegroupConfig')).toBe(1);
    const scaled = (
      await eks.send(new DescribeNodegroupCommand({ clusterName: eksName, nodegroupName: 'workers' }))
    ).nodegroup;
    expect(scaled?.scalingConfig).toEqual({ minSize: 0, maxSize: 5, desiredSize: 5 });
    await driveUntilDone(
      'scale down',
      () => provider.ensureNodePool(clusterCtx(cluster), poolOf(1, 'v1.31.4', 3), template),
      TIMEOUT,
    );
    expect(
      (await eks.send(new DescribeNodegroupCommand({ clusterName: eksName, nodegroupName: 'workers' })))
        .nodegroup?.scalingConfig?.desiredSize,
    ).toBe(1);
  });

  it('kubeconfig: the EKS endpoint and CA, and a presigned STS token that is made anew', async () => {
    const material = await provider.kubeconfig(clusterCtx(cluster));
    const described = (await eks.send(new DescribeClusterCommand({ name: eksName }))).cluster;
    expect(material.server).toBe(`https://${new URL(described?.endpoint as string).hostname}:443`);
    expect(material.caData).toBe(described?.certificateAuthority?.data);
    expect(material.clientCertData).toBeUndefined();
    expect(material.token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(
      Buffer.from((material.token as string).slice('k8s-aws-v1.'.length), 'base64url').toString(),
    );
    expect(url.host).toBe('sts.us-east-1.amazonaws.com');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    });
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^testing\/\d{8}\/us-east-1\/sts\/aws4_request$/,
    );
    const lifetime = (material.expiresAt?.getTime() ?? 0) - Date.now();
    expect(lifetime).toBeGreaterThan(14 * 60_000);
    expect(lifetime).toBeLessThanOrEqual(15 * 60_000);
    // (The emulator routes requests by their Authorization header, so it cannot answer a presigned
    // URL; the unit test checks the signature against the SDK's own signer.)
    await new Promise((r) => setTimeout(r, 1100));
    expect((await provider.kubeconfig(clusterCtx(cluster))).token).not.toBe(material.token);
  });

  it('upgrades the control plane one minor at a time, and node groups never past it (faked calls)', async () => {
    faked.length = 0;
    const two = await provider.ensureManagedControlPlane(clusterCtx(cluster), controlPlane('v1.33.0'));
    expect(two.progress).toMatchObject({
      state: 'inProgress',
      message: 'upgrading the EKS control plane from 1.31 to 1.32',
    });
    expect(faked).toEqual([
      {
        command: 'UpdateClusterVersionCommand',
        input: {
          name: eksName,
          version: '1.32',
          clientRequestToken: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      },
    ]);
    // The control plane still runs 1.31 (the emulator cannot upgrade): the pool is held there.
    faked.length = 0;
    expect(await provider.ensureNodePool(clusterCtx(cluster), poolOf(1, 'v1.32.0', 4), template)).toEqual({
      progress: { state: 'done' },
      replicas: 1,
      readyReplicas: 1,
      updatedReplicas: 1,
      version: 'v1.31',
    });
    expect(faked).toEqual([]);
    // Going down is refused.
    expect(
      (await provider.ensureManagedControlPlane(clusterCtx(cluster), controlPlane('v1.30.0'))).progress,
    ).toMatchObject({
      state: 'failed',
      reason: 'VersionDowngrade',
    });

    // A node group older than its control plane is upgraded to the control plane's version. (An EKS
    // cluster made at 1.32 with a node group made at 1.31, since the emulator cannot upgrade one.)
    const newer = clusterSchema.parse({
      ...cluster,
      metadata: { ...cluster.metadata, name: 'newer', uid: `uid2-${namespace}` },
    });
    await driveUntilDone(
      'newer control plane',
      () => provider.ensureInfrastructure(clusterCtx(newer)),
      TIMEOUT,
    );
    await driveUntilDone(
      'newer control plane',
      () => provider.ensureManagedControlPlane(clusterCtx(newer), controlPlane('v1.32.1')),
      TIMEOUT,
    );
    const newerName = eksClusterName({ namespace, name: 'newer' });
    const newerTags = ownedTags({ namespace, name: 'newer', uid: 'x' }, { name: 'old-pool' });
    const subnets = (await ownedInventory(clusterTagKey({ namespace, name: 'newer' }))).subnet;
    await eks.send(
      new CreateNodegroupCommand({
        clusterName: newerName,
        nodegroupName: 'workers',
        version: '1.31',
        nodeRole: NODE_ROLE,
        subnets,
        scalingConfig: { minSize: 0, maxSize: 1, desiredSize: 1 },
        tags: newerTags,
      }),
    );
    faked.length = 0;
    const upgrade = await provider.ensureNodePool(clusterCtx(newer), poolOf(1, 'v1.32.1', 5), template);
    expect(upgrade).toMatchObject({
      progress: { state: 'inProgress', message: 'upgrading node group workers from 1.31 to 1.32' },
      readyReplicas: 0,
      updatedReplicas: 0,
    });
    expect(faked).toEqual([
      {
        command: 'UpdateNodegroupVersionCommand',
        input: {
          clusterName: newerName,
          nodegroupName: 'workers',
          version: '1.32',
          clientRequestToken: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      },
    ]);
    await run('delete newer', () => provider.deleteInfrastructure(clusterCtx(newer)));
  });

  it('deletes node groups, then the EKS cluster, then the network: nothing left', async () => {
    calls.reset();
    await run('delete pool', () => provider.deleteNodePool(clusterCtx(cluster), pool));
    await run('delete control plane', () => provider.deleteManagedControlPlane(clusterCtx(cluster)));
    await run('delete infrastructure', () => provider.deleteInfrastructure(clusterCtx(cluster)));
    figures.push(calls.format('EKS node group, control plane and network deleted'));
    expect(Object.values(await ownedInventory(tagKey)).flat()).toEqual([]);
    expect(Object.values(await ownedInventory(clusterTagKey({ namespace, name: 'newer' }))).flat()).toEqual(
      [],
    );
    const left = (await eks.send(new ListClustersCommand({}))).clusters ?? [];
    expect(left.filter((n) => n.startsWith(`${namespace}_`))).toEqual([]);
  });
});
