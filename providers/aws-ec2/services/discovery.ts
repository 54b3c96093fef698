// Read-only lookups of what ensureInfrastructure made, for machine calls in a process that has not
// reconciled the cluster's infrastructure itself (after a restart). Never creates anything.
import {
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { unlessNotFound } from '../../aws-common/errors.js';
import { isOwned, ROLE_TAG, roleOf } from '../../aws-common/tags.js';
import type { Ec2Scope, SecurityGroupRole, SubnetRecord } from '../scope.js';
import { SECURITY_GROUP_ROLES } from './securitygroups.js';

export async function discoverVpc(s: Ec2Scope): Promise<void> {
  if (s.state.vpc) return;
  const byo = s.spec.network.vpc.id;
  const out = await unlessNotFound(
    s.clients.ec2.send(
      new DescribeVpcsCommand(byo ? { VpcIds: [byo] } : { Filters: s.filters({ [ROLE_TAG]: 'vpc' }) }),
    ),
  );
  const vpc = [...(byo ? (out?.Vpcs ?? []) : s.mine(out?.Vpcs))].sort((a, b) =>
    (a.VpcId ?? '').localeCompare(b.VpcId ?? ''),
  )[0];
  if (vpc?.VpcId) s.state.vpc = { id: vpc.VpcId, cidr: vpc.CidrBlock ?? '', managed: !byo };
}

export async function discoverSubnets(s: Ec2Scope): Promise<void> {
  const vpc = s.state.vpc;
  if (s.state.subnets || !vpc) return;
  const ec2 = s.clients.ec2;
  const records: SubnetRecord[] = [];
  const owned = s.mine(
    (await ec2.send(new DescribeSubnetsCommand({ Filters: s.filters({}, vpc.id) }))).Subnets,
  );
  for (const x of owned) {
    records.push({
      id: x.SubnetId as string,
      zone: x.AvailabilityZone ?? '',
      cidr: x.CidrBlock ?? '',
      public: roleOf(x.Tags) === 'subnet-public',
      owned: true,
    });
  }
  const given = (s.spec.network.subnets ?? []).filter((x) => x.id);
  if (given.length > 0) {
    const out = await unlessNotFound(
      ec2.send(new DescribeSubnetsCommand({ SubnetIds: given.map((x) => x.id as string) })),
    );
    for (const x of out?.Subnets ?? []) {
      records.push({
        id: x.SubnetId as string,
        zone: x.AvailabilityZone ?? '',
        cidr: x.CidrBlock ?? '',
        public: given.find((g) => g.id === x.SubnetId)?.public ?? false,
        owned: false,
      });
    }
  }
  if (records.length > 0) s.state.subnets = records;
}

async function discoverSecurityGroups(s: Ec2Scope): Promise<void> {
  const vpc = s.state.vpc;
  if (s.state.securityGroups?.controlPlane || !vpc) return;
  const out = await s.clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters: s.filters({}, vpc.id) }));
  const ids: Partial<Record<SecurityGroupRole, string>> = {};
  for (const role of Object.keys(SECURITY_GROUP_ROLES) as SecurityGroupRole[]) {
    const group = s.mine(out.SecurityGroups).find((g) => roleOf(g.Tags) === SECURITY_GROUP_ROLES[role].tag);
    if (group?.GroupId) ids[role] = group.GroupId;
  }
  s.state.securityGroups = ids;
}

/** The API load balancer and target group, by their names, checked to be the cluster's by tag. */
export async function discoverLoadBalancing(s: Ec2Scope): Promise<void> {
  if (s.state.loadBalancer && s.state.targetGroupArn) return;
  const elb = s.clients.elbv2;
  const lb = (
    await unlessNotFound(elb.send(new DescribeLoadBalancersCommand({ Names: [s.loadBalancerName] })))
  )?.LoadBalancers?.[0];
  const tg = (await unlessNotFound(elb.send(new DescribeTargetGroupsCommand({ Names: [s.targetGroupName] }))))
    ?.TargetGroups?.[0];
  const arns = [lb?.LoadBalancerArn, tg?.TargetGroupArn].filter((a): a is string => Boolean(a));
  if (arns.length === 0) return;
  const tags = await elb.send(new DescribeTagsCommand({ ResourceArns: arns }));
  const owned = (arn: string | undefined) =>
    Boolean(arn) && isOwned(tags.TagDescriptions?.find((d) => d.ResourceArn === arn)?.Tags, s.id);
  if (lb && owned(lb.LoadBalancerArn)) {
    s.state.loadBalancer = {
      arn: lb.LoadBalancerArn as string,
      dnsName: lb.DNSName ?? '',
      active: lb.State?.Code === 'active',
    };
  }
  if (tg && owned(tg.TargetGroupArn)) s.state.targetGroupArn = tg.TargetGroupArn as string;
}

/** Fills in what machine calls need; returns what is still missing, if anything. */
export async function discoverForMachines(s: Ec2Scope): Promise<string | undefined> {
  await discoverVpc(s);
  await discoverSubnets(s);
  await discoverSecurityGroups(s);
  await discoverLoadBalancing(s);
  const missing = [
    !s.state.vpc && 'VPC',
    !s.state.subnets?.length && 'subnets',
    !(s.state.securityGroups?.controlPlane && s.state.securityGroups.node) && 'security groups',
    !s.state.loadBalancer && 'API load balancer',
    !s.state.targetGroupArn && 'API target group',
  ].filter(Boolean);
  return missing.length > 0 ? missing.join(', ') : undefined;
}
