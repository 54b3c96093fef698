// The cluster's internet gateway and NAT gateways (with their Elastic IPs): network steps that come
// after the VPC and subnets (vpc.ts) and before the route tables (routes.ts).
import {
  AllocateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  DeleteInternetGatewayCommand,
  DeleteNatGatewayCommand,
  DescribeAddressesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DetachInternetGatewayCommand,
  type InternetGateway,
  ReleaseAddressCommand,
} from '@aws-sdk/client-ec2';
import { alreadySo, unlessNotFound } from '../../aws-common/errors.js';
import { clientToken } from '../../aws-common/names.js';
import { ROLE_TAG, roleOf } from '../../aws-common/tags.js';
import { type Ec2Scope, ready, type StepOutcome, type SubnetRecord, waiting } from '../scope.js';
import { byId, type DeletableKind, deleteEach, tryDelete, unique } from './common.js';

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
  // Already attached: the answer to an earlier attach was lost (the next pass sees the attachment).
  await alreadySo(
    ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpc.id })),
    'Resource.AlreadyAssociated',
  );
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

const ELASTIC_IP: DeletableKind = { noun: 'Elastic IP', logKey: 'allocation', gone: 'released Elastic IP' };

export async function releaseAddresses(s: Ec2Scope): Promise<string[]> {
  const addresses = (await describeAddresses(s)).map((address) => {
    const id = address.AllocationId as string;
    // Once its NAT gateway is deleted, AWS disassociates the address; while anything else still
    // holds it, AWS refuses the release (InvalidIPAddress.InUse) and the holder is named.
    const holder = address.AssociationId
      ? ` (associated with ${address.NetworkInterfaceId ?? address.InstanceId})`
      : '';
    return { id, what: `Elastic IP ${id}${holder}` };
  });
  return deleteEach(s, ELASTIC_IP, addresses, (id) =>
    s.clients.ec2.send(new ReleaseAddressCommand({ AllocationId: id })),
  );
}

const INTERNET_GATEWAY: DeletableKind = { noun: 'internet gateway', logKey: 'internetGateway' };

export async function deleteInternetGateways(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeInternetGatewaysCommand({ Filters: s.filters() }));
  // Detached from every VPC first; the first detach that is blocked says so, and the delete waits.
  const detach = async (igw: InternetGateway): Promise<string | undefined> => {
    const id = igw.InternetGatewayId as string;
    let blocked: string | undefined;
    for (const attachment of igw.Attachments ?? []) {
      blocked ??= await tryDelete(`internet gateway ${id} (detaching from ${attachment.VpcId})`, () =>
        alreadySo(
          ec2.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: attachment.VpcId })),
          'Gateway.NotAttached',
        ),
      );
    }
    return blocked;
  };
  const doomed = s
    .mine(out.InternetGateways)
    .map((igw) => ({ id: igw.InternetGatewayId as string, prepare: () => detach(igw) }));
  return deleteEach(s, INTERNET_GATEWAY, doomed, (id) =>
    ec2.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id })),
  );
}
