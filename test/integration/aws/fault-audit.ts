// What a fault run made, read from the emulator directly (never through the fault proxy): every
// resource tagged for the cluster, grouped by what it is for, so that a second one made by a retried
// create shows as a duplicate. Instances are counted in every state, terminated included: a second
// instance that was made and then cleaned up is still a duplicate.
import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeClusterCommand,
  EKSClient,
  ListClustersCommand,
  ListNodegroupsCommand,
} from '@aws-sdk/client-eks';
import { MACHINE_UID_TAG, ROLE_TAG, tagsToRecord } from '../../../providers/aws-common/tags.js';
import { ownedInventory, REGION, testClients } from './fixtures.js';

type Tagged = { Tags?: { Key?: string; Value?: string }[] };

export interface Audit {
  /** How many of each kind the cluster owns (instances: ever launched, any state). */
  counts: Record<string, number>;
  /** "<kind> <purpose> ×n" for every purpose with more than one resource. */
  duplicates: string[];
}

function group<T>(kind: string, items: T[], purpose: (t: T) => string, audit: Audit): void {
  audit.counts[kind] = items.length;
  const by = new Map<string, number>();
  for (const t of items) by.set(purpose(t), (by.get(purpose(t)) ?? 0) + 1);
  for (const [p, n] of by) if (n > 1) audit.duplicates.push(`${kind} ${p} ×${n}`);
}

/** The EC2 side of the cluster with owned tag `tagKey`. */
export async function auditEc2(tagKey: string): Promise<Audit> {
  const { ec2, elbv2 } = testClients();
  const audit: Audit = { counts: {}, duplicates: [] };
  const mine = <T extends Tagged>(items: T[] | undefined) =>
    (items ?? []).filter((x) => tagsToRecord(x.Tags)[tagKey] === 'owned');
  const role = (x: Tagged) => tagsToRecord(x.Tags)[ROLE_TAG] ?? '?';
  try {
    const instances = mine(
      (await ec2.send(new DescribeInstancesCommand({}))).Reservations?.flatMap((r) => r.Instances ?? []),
    );
    group('instance', instances, (i) => tagsToRecord(i.Tags)[MACHINE_UID_TAG] ?? '?', audit);
    group('vpc', mine((await ec2.send(new DescribeVpcsCommand({}))).Vpcs), role, audit);
    group(
      'subnet',
      mine((await ec2.send(new DescribeSubnetsCommand({}))).Subnets),
      (x) => x.CidrBlock ?? '?',
      audit,
    );
    group(
      'internetGateway',
      mine((await ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways),
      role,
      audit,
    );
    const nats = mine((await ec2.send(new DescribeNatGatewaysCommand({}))).NatGateways).filter(
      (n) => n.State !== 'deleted',
    );
    group('natGateway', nats, (n) => n.SubnetId ?? '?', audit);
    group('elasticIP', mine((await ec2.send(new DescribeAddressesCommand({}))).Addresses), role, audit);
    group('routeTable', mine((await ec2.send(new DescribeRouteTablesCommand({}))).RouteTables), role, audit);
    group(
      'securityGroup',
      mine((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups),
      role,
      audit,
    );
  } finally {
    ec2.destroy();
    elbv2.destroy();
  }
  // Load balancers and target groups are found by name, so a second one cannot share it: counted.
  const inventory = await ownedInventory(tagKey);
  audit.counts.loadBalancer = inventory.loadBalancer.length;
  audit.counts.targetGroup = inventory.targetGroup.length;
  return audit;
}

/** The EKS clusters tagged for the cluster, and their node groups. */
export async function auditEks(tagKey: string): Promise<Audit> {
  const eks = new EKSClient({ region: REGION });
  const audit: Audit = { counts: { eksCluster: 0, nodegroup: 0 }, duplicates: [] };
  try {
    for (const name of (await eks.send(new ListClustersCommand({}))).clusters ?? []) {
      const cluster = (await eks.send(new DescribeClusterCommand({ name }))).cluster;
      if (cluster?.tags?.[tagKey] !== 'owned') continue;
      audit.counts.eksCluster = (audit.counts.eksCluster ?? 0) + 1;
      const groups = (await eks.send(new ListNodegroupsCommand({ clusterName: name }))).nodegroups ?? [];
      audit.counts.nodegroup = (audit.counts.nodegroup ?? 0) + groups.length;
    }
    if ((audit.counts.eksCluster ?? 0) > 1) audit.duplicates.push(`eksCluster ×${audit.counts.eksCluster}`);
  } finally {
    eks.destroy();
  }
  return audit;
}
