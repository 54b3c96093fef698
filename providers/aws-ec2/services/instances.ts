// Machines as EC2 instances. Before every create the cluster's instances are listed by owned tag and
// the machine's own tags (the emulator in our tests does not honour ClientToken, and after a crash
// between RunInstances and the status write the tag is all there is); the ClientToken derived from
// the Machine's UID still makes a retried RunInstances harmless on real AWS.
import {
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  done,
  failed,
  inProgress,
  type MachineContext,
  type MachineStatusReport,
  type Progress,
} from '../../../src/provider/contract.js';
import { ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';
import { clientToken } from '../../aws-common/names.js';
import { MACHINE_ROLE_TAG, MACHINE_TAG, MACHINE_UID_TAG, tagsToRecord } from '../../aws-common/tags.js';
import type { TokenSource } from '../join-tokens/join-tokens.js';
import { API_SERVER_PORT, type Ec2Scope, type SubnetRecord } from '../scope.js';
import { type BootstrapRole, renderUserData, USER_DATA_LIMIT } from '../userdata.js';
import { tryDelete } from './common.js';
import type { ImageResolver } from './images.js';
import { ensureRegistered, leaveTargetGroup } from './targets.js';

const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped', 'shutting-down'];
/**
 * How long the instance view is trusted while any instance in it is not `running` (starting,
 * stopping, stopped): below the requeue of such a machine, so that no transition waits for the
 * settled view's period.
 */
const UNSETTLED_VIEW_TTL_MS = 4_000;

export function providerIDOf(instance: Instance): string {
  return `aws:///${instance.Placement?.AvailabilityZone ?? ''}/${instance.InstanceId}`;
}

/** `aws:///<zone>/<instance-id>` → instance ID. */
export function instanceIdOf(providerID: string | undefined): string | undefined {
  return providerID?.match(/^aws:\/\/\/[^/]*\/(i-[0-9a-f]+)$/)?.[1];
}

/**
 * Every live instance the cluster owns: the cluster's instance view (one tag-filtered
 * DescribeInstances shared by all its machines, at most `periods.instanceViewTtlMs` old while every
 * instance in it runs, a few seconds otherwise) unless `fresh`. Machines that ask while the view is
 * being refreshed wait for that refresh instead of making their own; a `fresh` listing is always
 * a call of its own, started after the question.
 */
export async function listInstances(s: Ec2Scope, fresh: boolean): Promise<Instance[]> {
  if (!fresh) {
    const cached = s.state.instanceList;
    if (cached) {
      const settled = cached.instances.every((i) => i.State?.Name === 'running');
      const ttl = settled ? s.periods.instanceViewTtlMs : UNSETTLED_VIEW_TTL_MS;
      if (Date.now() - cached.at < ttl) return cached.instances;
    }
    if (s.state.instanceRefresh) return s.state.instanceRefresh;
  }
  const listing = describeLiveInstances(s);
  if (!fresh) {
    s.state.instanceRefresh = listing;
    const forget = () => {
      if (s.state.instanceRefresh === listing) delete s.state.instanceRefresh;
    };
    listing.then(forget, forget);
  }
  return listing;
}

async function describeLiveInstances(s: Ec2Scope): Promise<Instance[]> {
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const out = await s.clients.ec2.send(
      new DescribeInstancesCommand({
        Filters: [...s.filters(), { Name: 'instance-state-name', Values: LIVE_STATES }],
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const r of out.Reservations ?? []) instances.push(...s.mine(r.Instances));
    NextToken = out.NextToken;
  } while (NextToken);
  s.state.instanceList = { at: Date.now(), instances };
  return instances;
}

function machineUid(ctx: MachineContext): string {
  const m = ctx.machine.metadata;
  return m.uid ?? `${m.namespace}/${m.name}`;
}

function belongsTo(instance: Instance, ctx: MachineContext): boolean {
  const tags = tagsToRecord(instance.Tags);
  if (tags[MACHINE_TAG] !== ctx.machine.metadata.name) return false;
  // A Machine re-made under the same name is another machine: its UID tells them apart.
  return !ctx.machine.metadata.uid || tags[MACHINE_UID_TAG] === ctx.machine.metadata.uid;
}

async function findInstance(s: Ec2Scope, ctx: MachineContext, fresh: boolean): Promise<Instance | undefined> {
  const known = s.state.instances.get(machineUid(ctx));
  const pick = (list: Instance[]): Instance | undefined =>
    (known ? list.find((i) => i.InstanceId === known) : undefined) ?? list.find((i) => belongsTo(i, ctx));
  const hit = pick(await listInstances(s, fresh));
  if (hit || fresh) return hit;
  return pick(await listInstances(s, true));
}

function addressesOf(i: Instance): NonNullable<MachineStatusReport['addresses']> {
  const out: NonNullable<MachineStatusReport['addresses']> = [];
  if (i.PrivateIpAddress) out.push({ type: 'InternalIP', address: i.PrivateIpAddress });
  if (i.PrivateDnsName) {
    out.push({ type: 'InternalDNS', address: i.PrivateDnsName });
    out.push({ type: 'Hostname', address: i.PrivateDnsName });
  }
  if (i.PublicIpAddress) out.push({ type: 'ExternalIP', address: i.PublicIpAddress });
  if (i.PublicDnsName) out.push({ type: 'ExternalDNS', address: i.PublicDnsName });
  return out;
}

/** The subnet with the fewest machines of the same role: spreads machines over the zones. */
function chooseSubnet(s: Ec2Scope, ctx: MachineContext, live: Instance[]): string {
  const given = ctx.template.spec.template.spec.awsEC2?.subnetID;
  if (given) return given;
  const subnets = s.state.subnets ?? [];
  const privates = subnets.filter((x) => !x.public);
  const pool: SubnetRecord[] = [...(privates.length > 0 ? privates : subnets)].sort(
    (a, b) => a.zone.localeCompare(b.zone) || a.cidr.localeCompare(b.cidr),
  );
  if (pool.length === 0)
    throw new ProviderFailure('NoSubnets', 'the cluster has no subnet to put machines in');
  const role = ctx.machine.spec.role;
  const count = (id: string) =>
    live.filter((i) => i.SubnetId === id && tagsToRecord(i.Tags)[MACHINE_ROLE_TAG] === role).length;
  return pool.reduce((best, x) => (count(x.id) < count(best.id) ? x : best)).id;
}

export interface MachineInfrastructure {
  /** The API server's host (the load balancer's DNS name). */
  endpointHost: string;
  targetGroupArn: string;
}

/** How a control-plane machine bootstraps: init when no other control-plane machine exists. */
function bootstrapRole(ctx: MachineContext, live: Instance[]): BootstrapRole {
  if (ctx.machine.spec.role === 'Worker') return 'joinWorker';
  const otherInstance = live.some(
    (i) =>
      tagsToRecord(i.Tags)[MACHINE_ROLE_TAG] === 'ControlPlane' &&
      !belongsTo(i, ctx) &&
      i.State?.Name !== 'shutting-down',
  );
  const otherMachine = ctx.peers.some((p) => p.spec.providerID && !p.metadata.deletionTimestamp);
  return otherInstance || otherMachine ? 'joinControlPlane' : 'init';
}

async function runInstance(
  s: Ec2Scope,
  ctx: MachineContext,
  infra: MachineInfrastructure,
  images: ImageResolver,
  live: Instance[],
  boot: { role: BootstrapRole; token: string; tokenTTL: string },
): Promise<Instance> {
  const machine = ctx.machine;
  const spec = ctx.template.spec.template.spec.awsEC2;
  if (!spec) {
    throw new ProviderFailure(
      'NotAwsEC2Template',
      `MachineTemplate ${ctx.template.metadata.name} has no spec.template.spec.awsEC2`,
    );
  }
  const certificates = ctx.certificates as NonNullable<MachineContext['certificates']>;
  const image = await images.resolve(s.clients.ec2, s.spec.region, {
    ...(spec.ami.id ? { id: spec.ami.id } : {}),
    version: machine.spec.version,
    instanceType: spec.instanceType,
  });
  const network = s.cluster.spec.clusterNetwork;
  const userData = renderUserData({
    role: boot.role,
    clusterName: s.name,
    kubernetesVersion: machine.spec.version,
    endpoint: { host: infra.endpointHost, port: API_SERVER_PORT },
    podCIDR: network.pods.cidrBlocks[0] as string,
    serviceCIDR: network.services.cidrBlocks[0] as string,
    serviceDomain: network.serviceDomain,
    certificates,
    token: boot.token,
    tokenTTL: boot.tokenTTL,
  });
  if (Buffer.byteLength(userData) > USER_DATA_LIMIT) {
    throw new ProviderFailure(
      'UserDataTooLarge',
      `the bootstrap data of ${machine.metadata.name} exceeds EC2's 16 KiB`,
    );
  }
  const name = machine.metadata.name as string;
  const machineTags = {
    [MACHINE_TAG]: name,
    [MACHINE_ROLE_TAG]: machine.spec.role,
    ...(machine.metadata.uid ? { [MACHINE_UID_TAG]: machine.metadata.uid } : {}),
  };
  const keyName = spec.sshKeyName ?? s.spec.sshKeyName;
  const profile = spec.iamInstanceProfile;
  const out = await s.clients.ec2.send(
    new RunInstancesCommand({
      ImageId: image.id,
      InstanceType: spec.instanceType as never,
      MinCount: 1,
      MaxCount: 1,
      ClientToken: clientToken(machineUid(ctx), 'instance'),
      SubnetId: chooseSubnet(s, ctx, live),
      SecurityGroupIds: [
        (machine.spec.role === 'ControlPlane'
          ? s.state.securityGroups?.controlPlane
          : s.state.securityGroups?.node) as string,
      ],
      ...(keyName ? { KeyName: keyName } : {}),
      ...(profile
        ? { IamInstanceProfile: profile.startsWith('arn:') ? { Arn: profile } : { Name: profile } }
        : {}),
      UserData: Buffer.from(userData).toString('base64'),
      BlockDeviceMappings: [
        {
          DeviceName: image.rootDeviceName,
          Ebs: {
            VolumeSize: spec.rootVolume.sizeGiB,
            VolumeType: spec.rootVolume.type,
            ...(spec.rootVolume.iops !== undefined ? { Iops: spec.rootVolume.iops } : {}),
            ...(spec.rootVolume.throughput !== undefined ? { Throughput: spec.rootVolume.throughput } : {}),
            DeleteOnTermination: true,
            Encrypted: true,
          },
        },
      ],
      // IMDSv2 only, one hop: pods cannot read the instance's credentials or its bootstrap data.
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
      TagSpecifications: [
        s.tagSpec('instance', name, 'machine', machineTags),
        s.tagSpec('volume', `${name}-root`, 'machine-volume', machineTags),
      ],
    }),
  );
  const instance = out.Instances?.[0];
  if (!instance?.InstanceId) throw new Error('RunInstances answered without an instance');
  s.state.instances.set(machineUid(ctx), instance.InstanceId);
  delete s.state.instanceList;
  s.log.info(
    {
      machine: name,
      instance: instance.InstanceId,
      role: machine.spec.role,
      bootstrap: boot.role,
      image: image.id,
    },
    'launched instance',
  );
  return instance;
}

export async function ensureInstance(
  s: Ec2Scope,
  ctx: MachineContext,
  infra: MachineInfrastructure,
  images: ImageResolver,
  tokens: TokenSource,
): Promise<MachineStatusReport> {
  let instance = await findInstance(s, ctx, false);
  if (!instance) {
    const recorded = instanceIdOf(ctx.machine.spec.providerID);
    if (recorded) {
      // The machine had an instance, and it is gone: a new one would be another machine.
      return {
        progress: failed(
          'InstanceTerminated',
          `instance ${recorded} of machine ${ctx.machine.metadata.name} no longer runs`,
        ),
        ready: false,
      };
    }
    if (!ctx.certificates) {
      return { progress: inProgress('waiting for the cluster certificates', 5_000), ready: false };
    }
    // One more look, never from a cached listing, right before the create.
    const live = await listInstances(s, true);
    instance = live.find((i) => belongsTo(i, ctx));
    if (!instance) {
      const role = bootstrapRole(ctx, live);
      const token = await tokens.forLaunch(role);
      if ('progress' in token) return { progress: token.progress, ready: false };
      instance = await runInstance(s, ctx, infra, images, live, { role, ...token, tokenTTL: tokens.ttl });
    }
  }
  const id = instance.InstanceId as string;
  s.state.instances.set(machineUid(ctx), id);
  const report = (progress: Progress, ready: boolean): MachineStatusReport => ({
    progress,
    providerID: providerIDOf(instance),
    addresses: addressesOf(instance),
    ready,
  });
  const state = instance.State?.Name;
  switch (state) {
    case 'running':
      break;
    case 'pending':
      return report(inProgress(`instance ${id} is starting`, 5_000), false);
    case 'stopping':
    case 'stopped':
      return report(
        inProgress(`instance ${id} is ${state}; start it, or delete the Machine to replace it`, 30_000),
        false,
      );
    default:
      return report(
        failed('InstanceTerminated', `instance ${id} of machine ${ctx.machine.metadata.name} is ${state}`),
        false,
      );
  }
  if (ctx.machine.spec.role === 'ControlPlane') {
    const registered = await ensureRegistered(s, id, infra.targetGroupArn);
    if (registered.state !== 'done') return report(registered, false);
  }
  return report(done(), true);
}

/**
 * Deletes a machine's instance: a control-plane instance leaves the API target group first (and
 * drains), then the instance is terminated; done once it is terminated.
 */
export async function deleteInstance(
  s: Ec2Scope,
  ctx: MachineContext,
  targetGroupArn: string | undefined,
): Promise<Progress> {
  const instance = await findInstance(s, ctx, true);
  if (!instance) {
    s.state.instances.delete(machineUid(ctx));
    delete s.state.instanceList;
    return done();
  }
  const id = instance.InstanceId as string;
  const state = instance.State?.Name;
  if (ctx.machine.spec.role === 'ControlPlane' && targetGroupArn && state !== 'shutting-down') {
    const leaving = await leaveTargetGroup(s, targetGroupArn, id);
    if (leaving) return leaving;
  }
  if (state === 'shutting-down') return inProgress(`instance ${id} is shutting down`, 5_000);
  await unlessNotFound(s.clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })));
  s.state.registered.delete(id);
  delete s.state.instanceList;
  s.log.info({ machine: ctx.machine.metadata.name, instance: id }, 'terminating instance');
  return inProgress(`instance ${id} is terminating`, 3_000);
}

// ----------------------------------------------------------------------------------------- deletion

/** Terminates every instance still tagged for the cluster (machines whose objects are gone). */
export async function terminateClusterInstances(s: Ec2Scope): Promise<string[]> {
  const live = await listInstances(s, true);
  const toTerminate = live
    .filter((i) => i.State?.Name !== 'shutting-down')
    .map((i) => i.InstanceId as string);
  if (toTerminate.length > 0) {
    await s.clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: toTerminate }));
    s.log.info({ instances: toTerminate }, 'terminating instances left behind');
    delete s.state.instanceList;
  }
  return live.map(
    (i) => `instance ${i.InstanceId} (${tagsToRecord(i.Tags)[MACHINE_TAG] ?? 'no machine'}, terminating)`,
  );
}

/** Volumes tagged for the cluster that outlived their instance. */
export async function deleteClusterVolumes(s: Ec2Scope): Promise<string[]> {
  const out = await s.clients.ec2.send(new DescribeVolumesCommand({ Filters: s.filters() }));
  const remaining: string[] = [];
  for (const v of s.mine(out.Volumes)) {
    const id = v.VolumeId as string;
    if (v.State === 'deleted') continue;
    if (v.State !== 'available') {
      remaining.push(`volume ${id} (${v.State})`);
      continue;
    }
    const blocked = await tryDelete(`volume ${id}`, () =>
      s.clients.ec2.send(new DeleteVolumeCommand({ VolumeId: id })),
    );
    if (blocked) remaining.push(blocked);
    else s.log.info({ volume: id }, 'deleted volume');
  }
  return remaining;
}
