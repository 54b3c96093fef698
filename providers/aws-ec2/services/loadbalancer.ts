// The API server's network load balancer (elbv2): the load balancer, a TCP target group on 6443 and
// a listener forwarding to it. Its DNS name is the cluster's controlPlaneEndpoint. Names derive from
// the cluster's identity; a load balancer or target group of that name that the cluster does not own
// is never touched.
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type LoadBalancer,
  ModifyListenerCommand,
  ModifyTargetGroupAttributesCommand,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';
import { isOwned, toAwsTags } from '../../aws-common/tags.js';
import { API_SERVER_PORT, type Ec2Scope, ready, type StepOutcome, waiting } from '../scope.js';
import { tryDelete } from './common.js';

const TAG_BATCH = 20;

/** Tags of elbv2 resources, by ARN (DescribeTags takes at most 20 ARNs a call). */
async function tagsOf(
  elb: ElasticLoadBalancingV2Client,
  arns: string[],
): Promise<Map<string, { Key?: string; Value?: string }[]>> {
  const out = new Map<string, { Key?: string; Value?: string }[]>();
  for (let i = 0; i < arns.length; i += TAG_BATCH) {
    const batch = arns.slice(i, i + TAG_BATCH);
    const res = await elb.send(new DescribeTagsCommand({ ResourceArns: batch }));
    for (const d of res.TagDescriptions ?? []) if (d.ResourceArn) out.set(d.ResourceArn, d.Tags ?? []);
  }
  return out;
}

async function assertOwned(s: Ec2Scope, arn: string, what: string, name: string): Promise<void> {
  const tags = await tagsOf(s.clients.elbv2, [arn]);
  if (!isOwned(tags.get(arn), s.id)) {
    throw new ProviderFailure(
      'NameTaken',
      `a ${what} named ${name} exists in ${s.spec.region} but is not tagged as owned by cluster ${s.id.namespace}/${s.name}; it is left alone`,
    );
  }
}

// One load balancer or target group by ARN or by name (undefined when there is none); their return
// types are pinned by ElbResourceKind below.
type ArnOrName = { arn: string } | { name: string };

async function describeLoadBalancer(elb: ElasticLoadBalancingV2Client, by: ArnOrName) {
  const input = 'arn' in by ? { LoadBalancerArns: [by.arn] } : { Names: [by.name] };
  return (await unlessNotFound(elb.send(new DescribeLoadBalancersCommand(input))))?.LoadBalancers?.[0];
}

async function describeTargetGroup(elb: ElasticLoadBalancingV2Client, by: ArnOrName) {
  const input = 'arn' in by ? { TargetGroupArns: [by.arn] } : { Names: [by.name] };
  return (await unlessNotFound(elb.send(new DescribeTargetGroupsCommand(input))))?.TargetGroups?.[0];
}

/** Every item of every page. */
async function allPages<P, T>(pages: AsyncIterable<P>, items: (page: P) => T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(items(page) ?? []));
  return all;
}

/** What finding and listing the cluster's elbv2 resources needs of one kind of them. */
interface ElbResourceKind<T> {
  what: 'load balancer' | 'target group';
  arnOf(x: T): string | undefined;
  /** The one with this ARN, or with this name; undefined when there is none. */
  describe(elb: ElasticLoadBalancingV2Client, by: ArnOrName): Promise<T | undefined>;
  /** Every one in the region (elbv2 cannot filter by tag). */
  describeAll(elb: ElasticLoadBalancingV2Client): Promise<T[]>;
}

const LOAD_BALANCERS: ElbResourceKind<LoadBalancer> = {
  what: 'load balancer',
  arnOf: (lb) => lb.LoadBalancerArn,
  describe: describeLoadBalancer,
  describeAll: (elb) => allPages(paginateDescribeLoadBalancers({ client: elb }, {}), (p) => p.LoadBalancers),
};

const TARGET_GROUPS: ElbResourceKind<TargetGroup> = {
  what: 'target group',
  arnOf: (tg) => tg.TargetGroupArn,
  describe: describeTargetGroup,
  describeAll: (elb) => allPages(paginateDescribeTargetGroups({ client: elb }, {}), (p) => p.TargetGroups),
};

/**
 * The cluster's resource of this kind: by the ARN this process knows, else by its name, which must
 * then carry the cluster's owned tag (names are per account and region, not per cluster).
 */
async function findByArnOrName<T>(
  s: Ec2Scope,
  kind: ElbResourceKind<T>,
  knownArn: string | undefined,
  name: string,
): Promise<T | undefined> {
  const byArn = knownArn ? await kind.describe(s.clients.elbv2, { arn: knownArn }) : undefined;
  if (byArn) return byArn;
  const byName = await kind.describe(s.clients.elbv2, { name });
  const arn = byName && kind.arnOf(byName);
  if (arn) await assertOwned(s, arn, kind.what, name);
  return byName;
}

/** One subnet per zone for the load balancer: public ones (internet-facing), else private (internal). */
function loadBalancerSubnets(s: Ec2Scope): { scheme: 'internet-facing' | 'internal'; subnetIds: string[] } {
  const subnets = s.state.subnets ?? [];
  const publics = subnets.filter((x) => x.public);
  const pool = publics.length > 0 ? publics : subnets;
  const byZone = new Map<string, string>();
  for (const x of [...pool].sort(
    (a, b) => Number(b.owned) - Number(a.owned) || a.cidr.localeCompare(b.cidr),
  )) {
    if (!byZone.has(x.zone)) byZone.set(x.zone, x.id);
  }
  return { scheme: publics.length > 0 ? 'internet-facing' : 'internal', subnetIds: [...byZone.values()] };
}

export async function reconcileLoadBalancer(s: Ec2Scope): Promise<StepOutcome> {
  const elb = s.clients.elbv2;
  const sg = s.state.securityGroups?.apiServerLB;
  if (!s.state.subnets || !sg) return waiting('the subnets and security groups');
  const name = s.loadBalancerName;
  let lb = await findByArnOrName(s, LOAD_BALANCERS, s.state.loadBalancer?.arn, name);
  if (!lb) {
    const { scheme, subnetIds } = loadBalancerSubnets(s);
    const out = await elb.send(
      new CreateLoadBalancerCommand({
        Name: name,
        Type: 'network',
        Scheme: scheme,
        Subnets: subnetIds,
        SecurityGroups: [sg],
        IpAddressType: 'ipv4',
        Tags: toAwsTags(s.tags(`${s.name}-apiserver`, 'apiserver-lb')),
      }),
    );
    lb = out.LoadBalancers?.[0];
    if (!lb?.LoadBalancerArn) throw new Error('CreateLoadBalancer answered without a load balancer');
    s.log.info({ loadBalancer: name, dnsName: lb.DNSName, scheme }, 'created API server load balancer');
  }
  const code = lb.State?.Code;
  s.state.loadBalancer = {
    arn: lb.LoadBalancerArn as string,
    dnsName: lb.DNSName ?? '',
    active: code === 'active',
  };
  if (code === 'failed') {
    throw new ProviderFailure(
      'LoadBalancerFailed',
      `load balancer ${name} failed: ${lb.State?.Reason ?? 'no reason given'}`,
    );
  }
  return code === 'active' ? ready : waiting(`load balancer ${name} (${code ?? 'unknown'})`, 10_000);
}

export async function reconcileTargetGroup(s: Ec2Scope): Promise<StepOutcome> {
  const elb = s.clients.elbv2;
  const vpc = s.state.vpc;
  if (!vpc) return waiting('the VPC');
  const name = s.targetGroupName;
  let tg = await findByArnOrName(s, TARGET_GROUPS, s.state.targetGroupArn, name);
  if (!tg) {
    const out = await elb.send(
      new CreateTargetGroupCommand({
        Name: name,
        Protocol: 'TCP',
        Port: API_SERVER_PORT,
        VpcId: vpc.id,
        TargetType: 'instance',
        HealthCheckProtocol: 'TCP',
        HealthCheckPort: 'traffic-port',
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 3,
        UnhealthyThresholdCount: 3,
        Tags: toAwsTags(s.tags(`${s.name}-apiserver`, 'apiserver-tg')),
      }),
    );
    tg = out.TargetGroups?.[0];
    if (!tg?.TargetGroupArn) throw new Error('CreateTargetGroup answered without a target group');
    s.log.info({ targetGroup: name }, 'created API server target group');
    s.state.targetGroupAttributesSet = false;
  }
  if (tg.VpcId && tg.VpcId !== vpc.id) {
    throw new ProviderFailure(
      'TargetGroupInOtherVpc',
      `target group ${name} is in ${tg.VpcId}, not in ${vpc.id}`,
    );
  }
  const arn = tg.TargetGroupArn as string;
  if (s.state.targetGroupArn !== arn || !s.state.targetGroupAttributesSet) {
    // Machines reach the API through the load balancer too: without this, a control-plane machine
    // that is routed to itself drops the connection (NLB hairpinning). Short draining for scale-down.
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [
          { Key: 'preserve_client_ip.enabled', Value: 'false' },
          { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
        ],
      }),
    );
    s.state.targetGroupAttributesSet = true;
  }
  s.state.targetGroupArn = arn;
  return ready;
}

export async function reconcileListener(s: Ec2Scope): Promise<StepOutcome> {
  const elb = s.clients.elbv2;
  const lb = s.state.loadBalancer;
  const tg = s.state.targetGroupArn;
  if (!lb || !tg) return waiting('the load balancer and target group');
  const listeners =
    (await elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }))).Listeners ?? [];
  const listener = listeners.find((l) => l.Port === API_SERVER_PORT);
  const forward = [{ Type: 'forward' as const, TargetGroupArn: tg }];
  if (!listener) {
    const out = await elb.send(
      new CreateListenerCommand({
        LoadBalancerArn: lb.arn,
        Protocol: 'TCP',
        Port: API_SERVER_PORT,
        DefaultActions: forward,
        Tags: toAwsTags(s.tags(`${s.name}-apiserver`, 'apiserver-listener')),
      }),
    );
    s.state.listenerArn = out.Listeners?.[0]?.ListenerArn;
    s.log.info({ port: API_SERVER_PORT }, 'created API server listener');
    return ready;
  }
  const forwards = listener.DefaultActions?.some((a) => a.Type === 'forward' && a.TargetGroupArn === tg);
  if (!forwards) {
    await elb.send(new ModifyListenerCommand({ ListenerArn: listener.ListenerArn, DefaultActions: forward }));
  }
  s.state.listenerArn = listener.ListenerArn;
  return ready;
}

// ----------------------------------------------------------------------------------------- deletion

/** Every resource of this kind in the region tagged as the cluster's (whatever its name). */
async function owned<T>(s: Ec2Scope, kind: ElbResourceKind<T>): Promise<T[]> {
  const all = await kind.describeAll(s.clients.elbv2);
  const tags = await tagsOf(
    s.clients.elbv2,
    all.map((x) => kind.arnOf(x) as string),
  );
  return all.filter((x) => isOwned(tags.get(kind.arnOf(x) as string), s.id));
}

export async function deleteLoadBalancers(s: Ec2Scope): Promise<string[]> {
  const remaining: string[] = [];
  for (const lb of await owned(s, LOAD_BALANCERS)) {
    await unlessNotFound(
      s.clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.LoadBalancerArn })),
    );
    s.log.info({ loadBalancer: lb.LoadBalancerName }, 'deleting load balancer');
    remaining.push(`load balancer ${lb.LoadBalancerName} (deleting)`);
  }
  if (remaining.length > 0) delete s.state.loadBalancer;
  return remaining;
}

export async function deleteTargetGroups(s: Ec2Scope): Promise<string[]> {
  const remaining: string[] = [];
  for (const tg of await owned(s, TARGET_GROUPS)) {
    const blocked = await tryDelete(`target group ${tg.TargetGroupName}`, () =>
      s.clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.TargetGroupArn })),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ targetGroup: tg.TargetGroupName }, 'deleted target group');
  }
  delete s.state.targetGroupArn;
  return remaining;
}
