// The cluster's route tables: the public one routes to the internet gateway, one per zone routes
// the zone's private subnets to its NAT gateway (gateways.ts). The last of the network steps.
import {
  AssociateRouteTableCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteRouteTableCommand,
  DescribeRouteTablesCommand,
  DisassociateRouteTableCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import { alreadySo, awsErrorCode, ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';
import { clientToken } from '../../aws-common/names.js';
import { isOwned, roleOf } from '../../aws-common/tags.js';
import { type Ec2Scope, ready, type StepOutcome, waiting } from '../scope.js';
import { ANYWHERE, type DeletableKind, deleteEach, unique } from './common.js';

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
      // Already there: made by a create whose answer was lost; the next pass checks its target.
      await alreadySo(
        ec2.send(
          new CreateRouteCommand({ RouteTableId: tableId, DestinationCidrBlock: ANYWHERE, ...wanted }),
        ),
        'RouteAlreadyExists',
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

const ROUTE_TABLE: DeletableKind = { noun: 'route table', logKey: 'routeTable' };

export async function deleteRouteTables(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeRouteTablesCommand({ Filters: s.filters() }));
  // A VPC's main route table goes with the VPC; it is never deleted on its own.
  const tables = s.mine(out.RouteTables).filter((t) => !t.Associations?.some((a) => a.Main));
  const disassociate = async (table: RouteTable): Promise<undefined> => {
    for (const a of table.Associations ?? []) {
      if (a.RouteTableAssociationId) {
        await unlessNotFound(
          ec2.send(new DisassociateRouteTableCommand({ AssociationId: a.RouteTableAssociationId })),
        );
      }
    }
  };
  const doomed = tables.map((t) => ({ id: t.RouteTableId as string, prepare: () => disassociate(t) }));
  return deleteEach(s, ROUTE_TABLE, doomed, (id) =>
    ec2.send(new DeleteRouteTableCommand({ RouteTableId: id })),
  );
}
