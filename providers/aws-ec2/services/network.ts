// The cluster's network, as an ordered list of small idempotent steps: VPC, subnets, internet
// gateway, NAT gateways (with Elastic IPs), route tables. Each step looks a resource up by the ID
// this process knows first, by the cluster's owned tags second, and creates it only when both miss.
// A VPC or subnet given by ID (bring your own) is read, used, and never modified or deleted.
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  ReleaseAddressCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type RouteTable,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import { awsErrorCode, isNotFound, unlessNotFound } from '../../aws-common/errors.js';
import { clientToken } from '../../aws-common/names.js';
import { isOwned, ROLE_TAG, roleOf } from '../../aws-common/tags.js';
import { subdivide } from '../cidr.js';
import {
  type Ec2Scope,
  ProviderFailure,
  ready,
  type StepOutcome,
  type SubnetRecord,
  waiting,
} from '../scope.js';
import { ANYWHERE, blockingInterfaces, tryDelete, unique } from './common.js';

/** A default VPC is cut into 16 equal blocks: private subnets take blocks 0-5, public ones 8-13. */
const SUBNET_SPLIT_BITS = 4;
const PUBLIC_BLOCK_OFFSET = 8;

function byId<T>(items: T[], key: (t: T) => string | undefined): T[] {
  return [...items].sort((a, b) => (key(a) ?? '').localeCompare(key(b) ?? ''));
}

// ---------------------------------------------------------------------------------------------- VPC

export async function reconcileVpc(s: Ec2Scope): Promise<StepOutcome> {
  const ec2 = s.clients.ec2;
  const byo = s.spec.network.vpc.id;
  if (byo) {
    const found = await unlessNotFound(ec2.send(new DescribeVpcsCommand({ VpcIds: [byo] })));
    const vpc = found?.Vpcs?.[0];
    if (!vpc) {
      throw new ProviderFailure(
        'VpcNotFound',
        `spec.infrastructure.awsEC2.network.vpc.id: VPC ${byo} does not exist in ${s.spec.region}`,
      );
    }
    s.state.vpc = { id: byo, cidr: vpc.CidrBlock ?? '', managed: false };
    return vpc.State === 'available' ? ready : waiting(`VPC ${byo} (${vpc.State})`);
  }

  let vpc: Vpc | undefined;
  const known = s.state.vpc?.managed ? s.state.vpc.id : undefined;
  if (known) {
    vpc = (await unlessNotFound(ec2.send(new DescribeVpcsCommand({ VpcIds: [known] }))))?.Vpcs?.[0];
  }
  if (!vpc) {
    const found = await ec2.send(new DescribeVpcsCommand({ Filters: s.filters({ [ROLE_TAG]: 'vpc' }) }));
    const vpcs = byId(s.mine(found.Vpcs), (v) => v.VpcId);
    if (vpcs.length > 1) {
      s.log.warn(
        { vpcs: vpcs.map((v) => v.VpcId) },
        'more than one VPC is tagged for the cluster; using the first',
      );
    }
    vpc = vpcs[0];
  }
  if (!vpc) {
    const out = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: s.spec.network.vpc.cidrBlock,
        TagSpecifications: [s.tagSpec('vpc', `${s.name}-vpc`, 'vpc')],
      }),
    );
    vpc = out.Vpc;
    if (!vpc?.VpcId) throw new Error('CreateVpc answered without a VPC');
    s.log.info({ vpc: vpc.VpcId, cidr: vpc.CidrBlock }, 'created VPC');
  }
  const id = vpc.VpcId as string;
  s.state.vpc = { id, cidr: vpc.CidrBlock ?? s.spec.network.vpc.cidrBlock, managed: true };
  if (vpc.State !== 'available') return waiting(`VPC ${id} (${vpc.State})`);
  if (s.state.vpcAttributesSetFor !== id) {
    // Instances get DNS host names (kubeadm's node names); set once per process, after a restart again.
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsSupport: { Value: true } }));
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: id, EnableDnsHostnames: { Value: true } }));
    s.state.vpcAttributesSetFor = id;
  }
  return ready;
}

// ------------------------------------------------------------------------------------------ subnets

interface PlannedSubnet {
  id?: string;
  cidr?: string;
  zone?: string;
  public: boolean;
}

async function availabilityZones(s: Ec2Scope): Promise<string[]> {
  const asked = s.spec.network.availabilityZones;
  if (asked && asked.length > 0) return asked;
  if (!s.state.zones) {
    const out = await s.clients.ec2.send(
      new DescribeAvailabilityZonesCommand({
        Filters: [
          { Name: 'state', Values: ['available'] },
          { Name: 'zone-type', Values: ['availability-zone'] },
        ],
      }),
    );
    const zones = (out.AvailabilityZones ?? []).map((z) => z.ZoneName as string).filter(Boolean);
    s.state.zones = zones.sort().slice(0, s.spec.network.availabilityZoneCount);
  }
  if (s.state.zones.length === 0) {
    throw new ProviderFailure('NoAvailabilityZones', `region ${s.spec.region} reports no available zone`);
  }
  return s.state.zones;
}

function carve(vpcCidr: string, index: number): string {
  try {
    return subdivide(vpcCidr, SUBNET_SPLIT_BITS, index);
  } catch {
    throw new ProviderFailure(
      'VpcTooSmall',
      `the VPC's CIDR block ${vpcCidr} is too small to carve subnets from (a /24 or larger is needed)`,
    );
  }
}

/** The subnets the spec asks for; by default a private and a public one in each zone. */
export async function planSubnets(s: Ec2Scope, vpcCidr: string): Promise<PlannedSubnet[]> {
  const entries = s.spec.network.subnets;
  if (entries && entries.length > 0) {
    const needZones = entries.some((e) => !e.id && !e.availabilityZone);
    const zones = needZones ? await availabilityZones(s) : [];
    return entries.map((e, i) =>
      e.id
        ? { id: e.id, public: e.public }
        : {
            cidr: e.cidrBlock ?? carve(vpcCidr, i),
            zone: e.availabilityZone ?? (zones[i % zones.length] as string),
            public: e.public,
          },
    );
  }
  const zones = await availabilityZones(s);
  return zones.flatMap((zone, i) => [
    { cidr: carve(vpcCidr, i), zone, public: false },
    { cidr: carve(vpcCidr, PUBLIC_BLOCK_OFFSET + i), zone, public: true },
  ]);
}

export async function reconcileSubnets(s: Ec2Scope): Promise<StepOutcome> {
  const ec2 = s.clients.ec2;
  const vpc = s.state.vpc;
  if (!vpc) return waiting('the VPC');
  const plan = await planSubnets(s, vpc.cidr);
  const owned = s.mine(
    (await ec2.send(new DescribeSubnetsCommand({ Filters: s.filters({}, vpc.id) }))).Subnets,
  );
  const byoIds = plan.map((p) => p.id).filter((id): id is string => Boolean(id));
  let byo: Subnet[] = [];
  if (byoIds.length > 0) {
    try {
      byo = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: byoIds }))).Subnets ?? [];
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  const records: SubnetRecord[] = [];
  const waits: string[] = [];
  for (const p of plan) {
    if (p.id) {
      const given = byo.find((b) => b.SubnetId === p.id);
      if (!given) {
        throw new ProviderFailure(
          'SubnetNotFound',
          `spec.infrastructure.awsEC2.network.subnets: subnet ${p.id} does not exist in ${s.spec.region}`,
        );
      }
      if (given.VpcId !== vpc.id) {
        throw new ProviderFailure(
          'SubnetNotInVpc',
          `spec.infrastructure.awsEC2.network.subnets: subnet ${p.id} is in ${given.VpcId}, not in the cluster's VPC ${vpc.id}`,
        );
      }
      records.push({
        id: p.id,
        zone: given.AvailabilityZone ?? '',
        cidr: given.CidrBlock ?? '',
        public: p.public,
        owned: false,
      });
      if (given.State !== 'available') waits.push(`subnet ${p.id} (${given.State})`);
      continue;
    }
    let subnet = owned.find((o) => o.CidrBlock === p.cidr);
    if (!subnet) {
      const kind = p.public ? 'public' : 'private';
      const out = await ec2.send(
        new CreateSubnetCommand({
          VpcId: vpc.id,
          CidrBlock: p.cidr,
          AvailabilityZone: p.zone,
          TagSpecifications: [
            s.tagSpec('subnet', `${s.name}-subnet-${kind}-${p.zone}`, `subnet-${kind}`, {
              // For the Kubernetes AWS cloud provider: where to put load balancers.
              [p.public ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb']: '1',
            }),
          ],
        }),
      );
      subnet = out.Subnet;
      if (!subnet?.SubnetId) throw new Error('CreateSubnet answered without a subnet');
      s.log.info({ subnet: subnet.SubnetId, cidr: p.cidr, zone: p.zone, public: p.public }, 'created subnet');
    }
    const id = subnet.SubnetId as string;
    if (p.public && !subnet.MapPublicIpOnLaunch) {
      await ec2.send(
        new ModifySubnetAttributeCommand({ SubnetId: id, MapPublicIpOnLaunch: { Value: true } }),
      );
    }
    records.push({
      id,
      zone: subnet.AvailabilityZone ?? p.zone ?? '',
      cidr: subnet.CidrBlock ?? p.cidr ?? '',
      public: p.public,
      owned: true,
    });
    if (subnet.State && subnet.State !== 'available') waits.push(`subnet ${id} (${subnet.State})`);
  }
  s.state.subnets = records;
  return waits.length > 0 ? waiting(waits.join(', ')) : ready;
}

// --------------------------------------------------------------------------------- internet gateway

export async function reconcileInternetGateway(s: Ec2Scope): Promise<StepOutcome> {
  const ec2 = s.clients.ec2;
  const vpc = s.state.vpc;
  const subnets = s.state.subnets;
  if (!vpc || !subnets) return waiting('the subnets');
  const needed = vpc.managed || subnets.some((x) => x.public && x.owned);
  if (!needed) {
    delete s.state.internetGatewayId;
    return ready;
  }
  const attached = await ec2.send(
    new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpc.id] }] }),
  );
  const current = attached.InternetGateways?.[0];
  if (current?.InternetGatewayId) {
    // A VPC has at most one; in a VPC we were given, it may be the owner's (used, never touched).
    s.state.internetGatewayId = current.InternetGatewayId;
    return ready;
  }
  const mine = await ec2.send(
    new DescribeInternetGatewaysCommand({ Filters: s.filters({ [ROLE_TAG]: 'igw' }) }),
  );
  let id = byId(s.mine(mine.InternetGateways), (g) => g.InternetGatewayId).find(
    (g) => (g.Attachments ?? []).length === 0,
  )?.InternetGatewayId;
  if (!id) {
    const out = await ec2.send(
      new CreateInternetGatewayCommand({
        TagSpecifications: [s.tagSpec('internet-gateway', `${s.name}-igw`, 'igw')],
      }),
    );
    id = out.InternetGateway?.InternetGatewayId;
    if (!id) throw new Error('CreateInternetGateway answered without a gateway');
    s.log.info({ internetGateway: id }, 'created internet gateway');
  }
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpc.id }));
  s.state.internetGatewayId = id;
  return ready;
}

// ------------------------------------------------------------------------------------- NAT gateways

/** The public subnet whose NAT gateway serves the private subnets of `zone`: the same zone if any. */
function natSubnetFor(zone: string, publics: SubnetRecord[]): SubnetRecord | undefined {
  return publics.find((p) => p.zone === zone) ?? publics[0];
}

function publicSubnets(subnets: SubnetRecord[]): SubnetRecord[] {
  return [...subnets.filter((x) => x.public)].sort(
    (a, b) => Number(b.owned) - Number(a.owned) || a.cidr.localeCompare(b.cidr),
  );
}

export async function reconcileNatGateways(s: Ec2Scope): Promise<StepOutcome> {
  const ec2 = s.clients.ec2;
  const vpc = s.state.vpc;
  const subnets = s.state.subnets;
  if (!vpc || !subnets) return waiting('the subnets');
  const privateZones = unique(subnets.filter((x) => !x.public && x.owned).map((x) => x.zone)).sort();
  const publics = publicSubnets(subnets);
  if (privateZones.length === 0 || publics.length === 0) {
    s.state.natByZone = {};
    return ready;
  }
  const natSubnets = unique(
    privateZones.map((z) => natSubnetFor(z, publics)).filter((p): p is SubnetRecord => Boolean(p)),
  );
  const nats = s.mine(
    (await ec2.send(new DescribeNatGatewaysCommand({ Filter: s.filters({}, vpc.id) }))).NatGateways,
  );
  let addresses: Awaited<ReturnType<typeof describeAddresses>> | undefined;

  const natBySubnet = new Map<string, string>();
  const waits: string[] = [];
  for (const pub of natSubnets) {
    const live = nats.find(
      (n) => n.SubnetId === pub.id && (n.State === 'pending' || n.State === 'available'),
    );
    if (live?.NatGatewayId) {
      if (live.State === 'available') natBySubnet.set(pub.id, live.NatGatewayId);
      else waits.push(`NAT gateway ${live.NatGatewayId} in ${pub.zone} (${live.State})`);
      continue;
    }
    const role = `nat-${pub.zone}`;
    addresses ??= await describeAddresses(s);
    let allocationId = addresses.find(
      (a) => roleOf(a.Tags) === `eip-${role}` && !a.AssociationId,
    )?.AllocationId;
    if (!allocationId) {
      const out = await ec2.send(
        new AllocateAddressCommand({
          Domain: 'vpc',
          TagSpecifications: [s.tagSpec('elastic-ip', `${s.name}-eip-${role}`, `eip-${role}`)],
        }),
      );
      allocationId = out.AllocationId;
      if (!allocationId) throw new Error('AllocateAddress answered without an allocation');
      s.log.info({ allocation: allocationId, zone: pub.zone }, 'allocated Elastic IP');
    }
    // A NAT gateway that failed keeps its token; the count of failed ones makes the next token new.
    const failedBefore = nats.filter((n) => n.SubnetId === pub.id && n.State === 'failed').length;
    const out = await ec2.send(
      new CreateNatGatewayCommand({
        SubnetId: pub.id,
        AllocationId: allocationId,
        ConnectivityType: 'public',
        ClientToken: clientToken(s.id.uid, `nat/${pub.id}/${failedBefore}`),
        TagSpecifications: [s.tagSpec('natgateway', `${s.name}-${role}`, role)],
      }),
    );
    const nat = out.NatGateway;
    if (!nat?.NatGatewayId) throw new Error('CreateNatGateway answered without a gateway');
    s.log.info({ natGateway: nat.NatGatewayId, zone: pub.zone, state: nat.State }, 'created NAT gateway');
    if (nat.State === 'available') natBySubnet.set(pub.id, nat.NatGatewayId);
    else waits.push(`NAT gateway ${nat.NatGatewayId} in ${pub.zone} (${nat.State ?? 'pending'})`);
  }
  for (const failedNat of nats.filter((n) => n.State === 'failed')) {
    s.log.warn(
      { natGateway: failedNat.NatGatewayId, reason: failedNat.FailureMessage },
      'a NAT gateway of the cluster failed',
    );
  }
  const natByZone: Record<string, string> = {};
  for (const zone of privateZones) {
    const nat = natBySubnet.get(natSubnetFor(zone, publics)?.id ?? '');
    if (nat) natByZone[zone] = nat;
  }
  s.state.natByZone = natByZone;
  return waits.length > 0 ? waiting(waits.join(', '), 5_000) : ready;
}

async function describeAddresses(s: Ec2Scope) {
  return s.mine((await s.clients.ec2.send(new DescribeAddressesCommand({ Filters: s.filters() }))).Addresses);
}

// ------------------------------------------------------------------------------------- route tables

type RouteTarget = { gatewayId: string } | { natGatewayId: string };

async function associate(s: Ec2Scope, routeTableId: string, subnetId: string): Promise<void> {
  const ec2 = s.clients.ec2;
  try {
    await ec2.send(new AssociateRouteTableCommand({ RouteTableId: routeTableId, SubnetId: subnetId }));
  } catch (err) {
    if (awsErrorCode(err) !== 'Resource.AlreadyAssociated') throw err;
    const current = await ec2.send(
      new DescribeRouteTablesCommand({ Filters: [{ Name: 'association.subnet-id', Values: [subnetId] }] }),
    );
    const table = current.RouteTables?.[0];
    const association = table?.Associations?.find((a) => a.SubnetId === subnetId);
    if (!table || !association?.RouteTableAssociationId) throw err;
    if (!isOwned(table.Tags, s.id)) {
      throw new ProviderFailure(
        'SubnetAssociatedElsewhere',
        `subnet ${subnetId} is associated with route table ${table.RouteTableId}, which the cluster does not own`,
      );
    }
    await ec2.send(
      new ReplaceRouteTableAssociationCommand({
        AssociationId: association.RouteTableAssociationId,
        RouteTableId: routeTableId,
      }),
    );
  }
}

async function ensureRouteTable(
  s: Ec2Scope,
  existing: RouteTable[],
  role: string,
  target: RouteTarget | undefined,
  subnetIds: string[],
): Promise<void> {
  const ec2 = s.clients.ec2;
  const vpc = s.state.vpc as { id: string };
  let table = existing.find((t) => roleOf(t.Tags) === role);
  if (!table) {
    const out = await ec2.send(
      new CreateRouteTableCommand({
        VpcId: vpc.id,
        ClientToken: clientToken(s.id.uid, `route-table/${vpc.id}/${role}`),
        TagSpecifications: [s.tagSpec('route-table', `${s.name}-${role}`, role)],
      }),
    );
    table = out.RouteTable;
    if (!table?.RouteTableId) throw new Error('CreateRouteTable answered without a route table');
    s.log.info({ routeTable: table.RouteTableId, role }, 'created route table');
  }
  const tableId = table.RouteTableId as string;
  if (target) {
    const route = table.Routes?.find((r) => r.DestinationCidrBlock === ANYWHERE);
    const wanted =
      'gatewayId' in target ? { GatewayId: target.gatewayId } : { NatGatewayId: target.natGatewayId };
    const matches =
      route !== undefined &&
      route.State !== 'blackhole' &&
      ('gatewayId' in target
        ? route.GatewayId === target.gatewayId
        : route.NatGatewayId === target.natGatewayId);
    if (!route) {
      await ec2.send(
        new CreateRouteCommand({ RouteTableId: tableId, DestinationCidrBlock: ANYWHERE, ...wanted }),
      );
    } else if (!matches) {
      await ec2.send(
        new ReplaceRouteCommand({ RouteTableId: tableId, DestinationCidrBlock: ANYWHERE, ...wanted }),
      );
    }
  }
  for (const subnetId of subnetIds) {
    if (!table.Associations?.some((a) => a.SubnetId === subnetId)) await associate(s, tableId, subnetId);
  }
}

export async function reconcileRouteTables(s: Ec2Scope): Promise<StepOutcome> {
  const vpc = s.state.vpc;
  const subnets = s.state.subnets;
  if (!vpc || !subnets) return waiting('the subnets');
  const owned = subnets.filter((x) => x.owned);
  if (owned.length === 0) return ready;
  const existing = s.mine(
    (await s.clients.ec2.send(new DescribeRouteTablesCommand({ Filters: s.filters({}, vpc.id) })))
      .RouteTables,
  );
  const waits: string[] = [];
  const publicIds = owned.filter((x) => x.public).map((x) => x.id);
  if (publicIds.length > 0) {
    const igw = s.state.internetGatewayId;
    if (!igw) waits.push('the internet gateway');
    await ensureRouteTable(s, existing, 'rt-public', igw ? { gatewayId: igw } : undefined, publicIds);
  }
  const hasPublic = subnets.some((x) => x.public);
  for (const zone of unique(owned.filter((x) => !x.public).map((x) => x.zone)).sort()) {
    const nat = s.state.natByZone?.[zone];
    if (!nat && hasPublic) waits.push(`the NAT gateway for ${zone}`);
    const ids = owned.filter((x) => !x.public && x.zone === zone).map((x) => x.id);
    await ensureRouteTable(s, existing, `rt-private-${zone}`, nat ? { natGatewayId: nat } : undefined, ids);
  }
  return waits.length > 0 ? waiting(waits.join(', ')) : ready;
}

// ----------------------------------------------------------------------------------------- deletion
// Each returns what is still there (and why); an empty list means none of that type is left.

export async function deleteNatGateways(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const nats = s.mine((await ec2.send(new DescribeNatGatewaysCommand({ Filter: s.filters() }))).NatGateways);
  const remaining: string[] = [];
  for (const nat of nats) {
    const id = nat.NatGatewayId as string;
    if (nat.State === 'deleted') continue;
    if (nat.State !== 'deleting') {
      await unlessNotFound(ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: id })));
      s.log.info({ natGateway: id }, 'deleting NAT gateway');
    }
    remaining.push(`NAT gateway ${id} (deleting)`);
  }
  return remaining;
}

export async function releaseAddresses(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const remaining: string[] = [];
  for (const address of await describeAddresses(s)) {
    const id = address.AllocationId as string;
    // Once its NAT gateway is deleted, AWS disassociates the address; while anything else still
    // holds it, AWS refuses the release (InvalidIPAddress.InUse) and the holder is named.
    const holder = address.AssociationId
      ? ` (associated with ${address.NetworkInterfaceId ?? address.InstanceId})`
      : '';
    const blocked = await tryDelete(`Elastic IP ${id}${holder}`, () =>
      ec2.send(new ReleaseAddressCommand({ AllocationId: id })),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ allocation: id }, 'released Elastic IP');
  }
  return remaining;
}

export async function deleteInternetGateways(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: s.filters() }));
  const remaining: string[] = [];
  for (const igw of s.mine(out.InternetGateways)) {
    const id = igw.InternetGatewayId as string;
    let blocked: string | undefined;
    for (const attachment of igw.Attachments ?? []) {
      blocked ??= await tryDelete(`internet gateway ${id} (detaching from ${attachment.VpcId})`, () =>
        ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: attachment.VpcId })),
      );
    }
    blocked ??= await tryDelete(`internet gateway ${id}`, () =>
      ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id })),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ internetGateway: id }, 'deleted internet gateway');
  }
  return remaining;
}

export async function deleteRouteTables(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeRouteTablesCommand({ Filters: s.filters() }));
  const remaining: string[] = [];
  for (const table of s.mine(out.RouteTables)) {
    const id = table.RouteTableId as string;
    if (table.Associations?.some((a) => a.Main)) {
      // A VPC's main route table goes with the VPC; it is never deleted on its own.
      continue;
    }
    for (const a of table.Associations ?? []) {
      if (a.RouteTableAssociationId) {
        await unlessNotFound(
          ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId })),
        );
      }
    }
    const blocked = await tryDelete(`route table ${id}`, () =>
      ec2.send(new DeleteRouteTableCommand({ RouteTableId: id })),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ routeTable: id }, 'deleted route table');
  }
  return remaining;
}

export async function deleteSubnets(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeSubnetsCommand({ Filters: s.filters() }));
  const remaining: string[] = [];
  const given = new Set((s.spec.network.subnets ?? []).map((x) => x.id).filter(Boolean));
  for (const subnet of s.mine(out.Subnets)) {
    const id = subnet.SubnetId as string;
    if (given.has(id)) continue; // never a subnet we were given, tagged or not
    const blocked = await tryDelete(
      `subnet ${id}`,
      () => ec2.send(new DeleteSubnetCommand({ SubnetId: id })),
      () => blockingInterfaces(s, { name: 'subnet-id', value: id }),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ subnet: id }, 'deleted subnet');
  }
  return remaining;
}

export async function deleteVpcs(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeVpcsCommand({ Filters: s.filters() }));
  const remaining: string[] = [];
  for (const vpc of s.mine(out.Vpcs)) {
    const id = vpc.VpcId as string;
    if (id === s.spec.network.vpc.id) continue; // never the VPC we were given, tagged or not
    const blocked = await tryDelete(
      `VPC ${id}`,
      () => ec2.send(new DeleteVpcCommand({ VpcId: id })),
      () => blockingInterfaces(s, { name: 'vpc-id', value: id }),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ vpc: id }, 'deleted VPC');
  }
  return remaining;
}
