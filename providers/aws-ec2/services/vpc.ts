// The cluster's VPC and subnets, two of the network's small idempotent steps (gateways.ts and
// routes.ts hold the others). Each step looks a resource up by the ID this process knows first, by
// the cluster's owned tags second, and creates it only when both miss. A VPC or subnet given by ID
// (bring your own) is read, used, and never modified or deleted.
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAvailabilityZonesCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  ModifySubnetAttributeCommand,
  ModifyVpcAttributeCommand,
  type Subnet,
  type Vpc,
} from '@aws-sdk/client-ec2';
import { awsErrorCode, isNotFound, ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';
import { ROLE_TAG } from '../../aws-common/tags.js';
import { subdivide } from '../cidr.js';
import { type Ec2Scope, ready, type StepOutcome, type SubnetRecord, waiting } from '../scope.js';
import { byId, type DeletableKind, deleteEach } from './common.js';

/** A default VPC is cut into 16 equal blocks: private subnets take blocks 0-5, public ones 8-13. */
const SUBNET_SPLIT_BITS = 4;
const PUBLIC_BLOCK_OFFSET = 8;

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

/**
 * Creates one planned subnet. A conflict with a block the cluster already owns in the VPC is that
 * subnet: made by a create whose answer was lost, and not listed yet. Any other conflict is thrown.
 */
async function createSubnet(s: Ec2Scope, vpcId: string, p: PlannedSubnet): Promise<Subnet | undefined> {
  const ec2 = s.clients.ec2;
  const kind = p.public ? 'public' : 'private';
  try {
    const out = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
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
    return out.Subnet;
  } catch (err) {
    if (awsErrorCode(err) !== 'InvalidSubnet.Conflict') throw err;
    const same = await ec2.send(
      new DescribeSubnetsCommand({ Filters: s.filters({ [ROLE_TAG]: `subnet-${kind}` }, vpcId) }),
    );
    const ours = s.mine(same.Subnets).find((x) => x.CidrBlock === p.cidr);
    if (!ours) throw err;
    s.log.info(
      { subnet: ours.SubnetId, cidr: p.cidr },
      'the subnet was made by a create whose answer was lost',
    );
    return ours;
  }
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
      subnet = await createSubnet(s, vpc.id, p);
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

// ----------------------------------------------------------------------------------------- deletion
// Each returns what is still there (and why); an empty list means none of that type is left.

const SUBNET: DeletableKind = { noun: 'subnet', logKey: 'subnet', heldBy: 'subnet-id' };
const VPC: DeletableKind = { noun: 'VPC', logKey: 'vpc', heldBy: 'vpc-id' };

export async function deleteSubnets(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeSubnetsCommand({ Filters: s.filters() }));
  const given = new Set((s.spec.network.subnets ?? []).map((x) => x.id).filter(Boolean));
  // Never a subnet we were given, tagged or not.
  const doomed = s.mine(out.Subnets).filter((x) => !given.has(x.SubnetId as string));
  return deleteEach(
    s,
    SUBNET,
    doomed.map((x) => ({ id: x.SubnetId as string })),
    (id) => ec2.send(new DeleteSubnetCommand({ SubnetId: id })),
  );
}

export async function deleteVpcs(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeVpcsCommand({ Filters: s.filters() }));
  // Never the VPC we were given, tagged or not.
  const doomed = s.mine(out.Vpcs).filter((x) => x.VpcId !== s.spec.network.vpc.id);
  return deleteEach(
    s,
    VPC,
    doomed.map((x) => ({ id: x.VpcId as string })),
    (id) => ec2.send(new DeleteVpcCommand({ VpcId: id })),
  );
}
