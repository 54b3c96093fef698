// Objects, counters, an inventory and an instance's boot configuration, for driving the AWS
// providers against the AWS API emulator of the test environment (moto_server, reached through
// AWS_ENDPOINT_URL).
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CopyImageCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { parse, parseAllDocuments } from 'yaml';
import type { AwsCall } from '../../../providers/aws-common/clients.js';
import { KUBEADM_CONFIG_PATH } from '../../../providers/aws-ec2/userdata.js';
import type { Cluster, Machine, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import { clusterObject, machineObject, machineTemplateObject } from '../../support/provider-objects.js';

export { clusterCtx, machineCtx } from '../../support/provider-objects.js';

export const REGION = 'us-east-1';

/** A namespace name unique to this run: tags (and so lookups) never meet another test's. */
export const uniqueNamespace = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

export const awsCluster = (namespace: string, name: string, awsEC2: Record<string, unknown>): Cluster =>
  clusterObject({ namespace, name, uid: randomUUID() }, { awsEC2: { region: REGION, ...awsEC2 } });

export const ec2Template = (
  namespace: string,
  name: string,
  awsEC2: Record<string, unknown>,
): MachineTemplate => machineTemplateObject(namespace, name, { awsEC2 });

export const awsMachine = (
  cluster: Cluster,
  name: string,
  role: 'ControlPlane' | 'Worker',
  template: MachineTemplate,
  version = 'v1.33.1',
): Machine => machineObject(cluster, name, role, version, template, randomUUID());

/** Counts AWS calls as the provider's client factory reports them (an SDK middleware). */
export class CallCounter {
  private counts = new Map<string, number>();
  readonly record = (call: AwsCall): void => {
    const key = `${call.service}:${call.operation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  };
  reset(): void {
    this.counts = new Map();
  }
  total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  count(operation: string): number {
    return [...this.counts.entries()]
      .filter(([k]) => k.endsWith(`:${operation}`))
      .reduce((a, [, v]) => a + v, 0);
  }
  /** Calls whose operation starts with one of `prefixes`. */
  matching(...prefixes: string[]): number {
    return [...this.counts.entries()]
      .filter(([k]) => prefixes.some((p) => (k.split(':')[1] as string).startsWith(p)))
      .reduce((a, [, v]) => a + v, 0);
  }
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
  format(title: string): string {
    const rows = Object.entries(this.snapshot()).map(([k, v]) => `  ${k.padEnd(58)} ${v}`);
    return `${title}: ${this.total()} AWS API calls\n${rows.join('\n')}`;
  }
}

/** Plain SDK clients for the test's own checks (the provider's clients are not used for them). */
export function testClients(): { ec2: EC2Client; elbv2: ElasticLoadBalancingV2Client } {
  return {
    ec2: new EC2Client({ region: REGION }),
    elbv2: new ElasticLoadBalancingV2Client({ region: REGION }),
  };
}

type Tagged = { Tags?: { Key?: string; Value?: string }[] };
const hasTag = (x: Tagged, key: string, value = 'owned') =>
  x.Tags?.some((t) => t.Key === key && t.Value === value);

/**
 * Every resource of every type the provider creates that still carries `tagKey=owned`, listed with
 * no filter at all and checked here (moto ignores some filters), skipping what is gone for good.
 */
export type Inventory = Record<
  | 'vpc'
  | 'subnet'
  | 'internetGateway'
  | 'natGateway'
  | 'elasticIP'
  | 'routeTable'
  | 'securityGroup'
  | 'loadBalancer'
  | 'targetGroup'
  | 'instance'
  | 'volume',
  string[]
>;

export async function ownedInventory(tagKey: string): Promise<Inventory> {
  const { ec2, elbv2 } = testClients();
  try {
    const mine = <T extends Tagged>(items: T[] | undefined) => (items ?? []).filter((x) => hasTag(x, tagKey));
    const instances = (await ec2.send(new DescribeInstancesCommand({}))).Reservations?.flatMap(
      (r) => r.Instances ?? [],
    );
    const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
    const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    const arns = [
      ...lbs.map((l) => l.LoadBalancerArn as string),
      ...tgs.map((t) => t.TargetGroupArn as string),
    ];
    const owned = new Set<string>();
    for (let i = 0; i < arns.length; i += 20) {
      const tags = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
      for (const d of tags.TagDescriptions ?? []) if (hasTag(d, tagKey)) owned.add(d.ResourceArn as string);
    }
    return {
      vpc: mine((await ec2.send(new DescribeVpcsCommand({}))).Vpcs).map((x) => x.VpcId as string),
      subnet: mine((await ec2.send(new DescribeSubnetsCommand({}))).Subnets).map((x) => x.SubnetId as string),
      internetGateway: mine((await ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways).map(
        (x) => x.InternetGatewayId as string,
      ),
      natGateway: mine((await ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways)
        .filter((n) => n.State !== 'deleted')
        .map((x) => x.NatGatewayId as string),
      elasticIP: mine((await ec2.send(new DescribeAddressesCommand({}))).Addresses).map(
        (x) => x.AllocationId as string,
      ),
      routeTable: mine((await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables).map(
        (x) => x.RouteTableId as string,
      ),
      securityGroup: mine((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups).map(
        (x) => x.GroupId as string,
      ),
      loadBalancer: lbs
        .filter((l) => owned.has(l.LoadBalancerArn as string))
        .map((l) => l.LoadBalancerName as string),
      targetGroup: tgs
        .filter((t) => owned.has(t.TargetGroupArn as string))
        .map((t) => t.TargetGroupName as string),
      instance: mine(instances)
        .filter((i) => i.State?.Name !== 'terminated')
        .map((x) => x.InstanceId as string),
      volume: mine((await ec2.send(new DescribeVolumesCommand({}))).Volumes).map((x) => x.VolumeId as string),
    };
  } finally {
    ec2.destroy();
    elbv2.destroy();
  }
}

/** The non-terminated instances tagged for the machine `name` of the cluster (counted by tag). */
export async function instancesOfMachine(tagKey: string, name: string): Promise<Instance[]> {
  const { ec2 } = testClients();
  try {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    return (out.Reservations ?? [])
      .flatMap((r) => r.Instances ?? [])
      .filter(
        (i) =>
          hasTag(i, tagKey) &&
          hasTag(i, 'clusterforge.dev/machine', name) &&
          i.State?.Name !== 'terminated' &&
          i.State?.Name !== 'shutting-down',
      );
  } finally {
    ec2.destroy();
  }
}

/** The cloud-config of an instance, decoded from its user data, and the kubeadm documents in it. */
export async function bootstrapOf(ec2: EC2Client, instanceId: string) {
  const attr = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }),
  );
  const raw = Buffer.from(attr.UserData?.Value ?? '', 'base64').toString('utf8');
  const [header, ...rest] = raw.split('\n');
  const cloudConfig = parse(rest.join('\n')) as {
    write_files: { path: string; content: string; permissions: string }[];
    runcmd: string[];
  };
  const kubeadmFile = cloudConfig.write_files.find((f) => f.path === KUBEADM_CONFIG_PATH);
  const documents = parseAllDocuments(kubeadmFile?.content ?? '').map(
    (d) => d.toJSON() as Record<string, any>,
  );
  return {
    raw,
    header,
    secondLine: rest[0],
    cloudConfig,
    documents,
    paths: cloudConfig.write_files.map((f) => f.path),
  };
}

/** An x86_64 Linux image from the emulator's catalogue, for MachineTemplates that name one. */
export async function someImage(): Promise<string> {
  const { ec2 } = testClients();
  try {
    const out = await ec2.send(
      new DescribeImagesCommand({
        Owners: ['amazon'],
        Filters: [{ Name: 'architecture', Values: ['x86_64'] }],
      }),
    );
    const image = (out.Images ?? []).find(
      (i) => i.ImageId && i.RootDeviceName && i.Platform !== 'Windows' && !/windows/i.test(i.Name ?? ''),
    );
    if (!image?.ImageId) throw new Error('the emulator lists no x86_64 Linux image');
    return image.ImageId;
  } finally {
    ec2.destroy();
  }
}

/**
 * An image named as Cluster API Provider AWS names its images (`capa-ami-ubuntu-24.04-<version>-<stamp>`),
 * owned by the emulator's account: a copy of one of its x86_64 images, since the emulator's
 * RegisterImage leaves the architecture out. Returns that account, for the provider's image owners.
 */
export async function capaImage(version: string, stamp = '1700000000'): Promise<string> {
  const sts = new STSClient({ region: REGION });
  const { ec2, elbv2 } = testClients();
  try {
    const account = (await sts.send(new GetCallerIdentityCommand({}))).Account as string;
    await ec2.send(
      new CopyImageCommand({
        SourceImageId: await someImage(),
        SourceRegion: REGION,
        Name: `capa-ami-ubuntu-24.04-${version}-${stamp}`,
      }),
    );
    return account;
  } finally {
    sts.destroy();
    ec2.destroy();
    elbv2.destroy();
  }
}
