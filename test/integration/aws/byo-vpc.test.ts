// Bring your own network: a VPC (with its own internet gateway and subnets) made outside the
// operator is used, never modified, and survives the deletion of the clusters that used it.
import {
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import type { Cluster, Machine } from '../../../src/api/v1alpha1/index.js';
import { generateClusterCertificates } from '../../../src/pki/index.js';
import type { ClusterCertificates } from '../../../src/provider/contract.js';
import { testKubeConfig } from '../../support/kube.js';
import { driveUntilDone } from '../local/fixtures.js';
import {
  awsCluster,
  awsMachine,
  CallCounter,
  clusterCtx,
  ec2Template,
  type Inventory,
  machineCtx,
  ownedInventory,
  someImage,
  testClients,
  uniqueNamespace,
} from './fixtures.js';
import { deleteJoinTokenSecrets, workloadStandIn } from './workload-stand-in.js';

const TIMEOUT = 60_000;
const counts = (inv: Inventory) => Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, v.length]));
const USER_TAGS = [
  { Key: 'Name', Value: 'shared-network' },
  { Key: 'owner', Value: 'network-team' },
];

describe('aws-ec2 with a VPC and subnets given by ID', () => {
  const namespace = uniqueNamespace('byo');
  const calls = new CallCounter();
  const kc = testKubeConfig();
  const provider = new AwsEc2Provider({
    clients: new AwsClientFactory({ onCall: calls.record }),
    ...workloadStandIn(kc),
  });
  const launched: Machine[] = [];
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  let vpcId: string;
  let igwId: string;
  let publicSubnet: string;
  let privateSubnet: string;
  let certs: ClusterCertificates;
  let inVpc: Cluster;
  let onSubnets: Cluster;
  const snapshot = async () => ({
    vpc: (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.[0],
    igw: (await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [igwId] })))
      .InternetGateways?.[0],
    subnets: (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [publicSubnet, privateSubnet] })))
      .Subnets,
  });
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    ({ ec2, elbv2 } = testClients());
    certs = await generateClusterCertificates();
    const tags = (type: 'vpc' | 'subnet' | 'internet-gateway') => [{ ResourceType: type, Tags: USER_TAGS }];
    vpcId = (
      await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', TagSpecifications: tags('vpc') }))
    ).Vpc?.VpcId as string;
    igwId = (
      await ec2.send(new CreateInternetGatewayCommand({ TagSpecifications: tags('internet-gateway') }))
    ).InternetGateway?.InternetGatewayId as string;
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }));
    const subnet = async (cidr: string, zone: string) =>
      (
        await ec2.send(
          new CreateSubnetCommand({
            VpcId: vpcId,
            CidrBlock: cidr,
            AvailabilityZone: zone,
            TagSpecifications: tags('subnet'),
          }),
        )
      ).Subnet?.SubnetId as string;
    publicSubnet = await subnet('10.20.200.0/24', 'us-east-1a');
    privateSubnet = await subnet('10.20.201.0/24', 'us-east-1b');
    before = await snapshot();
    inVpc = awsCluster(namespace, 'in-vpc', { network: { vpc: { id: vpcId }, availabilityZoneCount: 2 } });
    onSubnets = awsCluster(namespace, 'on-subnets', {
      network: {
        vpc: { id: vpcId },
        subnets: [
          { id: publicSubnet, public: true },
          { id: privateSubnet, public: false },
        ],
      },
    });
  });

  afterAll(async () => {
    await deleteJoinTokenSecrets(kc, launched); // its instance went with the infrastructure
    provider.destroy();
    // The test's own network goes last, so nothing is left in the shared emulator.
    await ec2
      .send(new DetachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId: vpcId }))
      .catch(() => {});
    await ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: igwId })).catch(() => {});
    for (const id of [publicSubnet, privateSubnet])
      await ec2.send(new DeleteSubnetCommand({ SubnetId: id })).catch(() => {});
    await ec2.send(new DeleteVpcCommand({ VpcId: vpcId })).catch(() => {});
    ec2?.destroy();
    elbv2?.destroy();
  });

  const ensure = (cluster: Cluster) =>
    driveUntilDone(
      `infrastructure ${cluster.metadata.name}`,
      () => provider.ensureInfrastructure(clusterCtx(cluster)),
      TIMEOUT,
    );
  const remove = (cluster: Cluster) =>
    driveUntilDone(
      `delete ${cluster.metadata.name}`,
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      TIMEOUT,
    );

  it('in a given VPC: its own subnets, NAT gateways and routes, through the VPC’s internet gateway', async () => {
    await ensure(inVpc);
    const inv = await ownedInventory(clusterTagKey({ namespace, name: 'in-vpc' }));
    expect(counts(inv)).toEqual({
      vpc: 0,
      subnet: 4,
      internetGateway: 0,
      natGateway: 2,
      elasticIP: 2,
      routeTable: 3,
      securityGroup: 3,
      loadBalancer: 1,
      targetGroup: 1,
      instance: 0,
      volume: 0,
    });
    const tables =
      (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: inv.routeTable }))).RouteTables ?? [];
    const toIgw = tables.filter((t) =>
      t.Routes?.some((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.GatewayId === igwId),
    );
    expect(toIgw).toHaveLength(1);
    expect(toIgw[0]?.Associations?.filter((a) => a.SubnetId)).toHaveLength(2);
  });

  it('on given subnets: only security groups, the load balancer and machines are made', async () => {
    await ensure(onSubnets);
    const tagKey = clusterTagKey({ namespace, name: 'on-subnets' });
    const inv = await ownedInventory(tagKey);
    expect(counts(inv)).toMatchObject({
      vpc: 0,
      subnet: 0,
      internetGateway: 0,
      natGateway: 0,
      elasticIP: 0,
      routeTable: 0,
    });
    expect(counts(inv)).toMatchObject({ securityGroup: 3, loadBalancer: 1, targetGroup: 1 });
    const lb = (await elbv2.send(new DescribeLoadBalancersCommand({ Names: inv.loadBalancer })))
      .LoadBalancers?.[0];
    expect(lb?.AvailabilityZones?.map((z) => z.SubnetId)).toEqual([publicSubnet]);

    const template = ec2Template(namespace, 'workers', {
      instanceType: 't3.large',
      ami: { id: await someImage() },
    });
    const machine = awsMachine(onSubnets, 'on-subnets-w-1', 'Worker', template);
    launched.push(machine);
    const ctx = machineCtx(onSubnets, certs, machine, template);
    const report = await driveUntilDone('worker', () => provider.ensureMachine(ctx), TIMEOUT);
    const id = report.providerID?.split('/').at(-1) as string;
    const instance = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]
      ?.Instances?.[0];
    expect(instance?.SubnetId).toBe(privateSubnet); // machines go to the private subnet given
  });

  it('deleting both clusters leaves the given VPC, subnets and gateway as they were, and nothing owned', async () => {
    calls.reset();
    await remove(inVpc);
    await remove(onSubnets); // its instance is terminated by the infrastructure delete
    for (const name of ['in-vpc', 'on-subnets']) {
      const inv = await ownedInventory(clusterTagKey({ namespace, name }));
      expect(Object.values(inv).flat(), name).toEqual([]);
    }
    const after = await snapshot();
    expect(after.vpc?.State).toBe('available');
    expect(after.vpc?.Tags).toEqual(before.vpc?.Tags);
    expect(after.igw?.Attachments).toEqual(before.igw?.Attachments);
    expect(after.igw?.Tags).toEqual(before.igw?.Tags);
    expect(after.subnets?.map((s) => [s.SubnetId, s.Tags, s.MapPublicIpOnLaunch])).toEqual(
      before.subnets?.map((s) => [s.SubnetId, s.Tags, s.MapPublicIpOnLaunch]),
    );
    // Nothing was deleted that the clusters did not own.
    expect(
      calls.count('DeleteVpc') + calls.count('DeleteInternetGateway') + calls.count('DetachInternetGateway'),
    ).toBe(0);
  });
});
