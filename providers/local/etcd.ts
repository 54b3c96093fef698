// One etcd member per control-plane machine. The first machine starts a new cluster; each further
// machine is added through the JSON gateway of a running member as a learner, started with
// --initial-cluster-state existing and the full member list, then promoted to a voting member once
// it has caught up. Removal happens through another member BEFORE the process is stopped, and is
// refused when the remaining members would not keep a quorum; a leader hands leadership on first.
import { open, readFile, unlink } from 'node:fs/promises';
import {
  type EtcdGateway,
  type EtcdMember,
  EtcdRequestError,
  quorumAfterRemoval,
} from '../../src/etcd/gateway.js';
import { moveLeadershipOff } from '../../src/etcd/leadership.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import { crashesForgiven, isRunning } from '../../src/supervisor/index.js';
import { controlPlaneFiles } from './certificates.js';
import { ensureProcess, type MachineScope, saveMachine, stopProcess } from './scope.js';
import { type MachineRecord, machinePaths, readMachineRecords } from './state.js';

export const etcdClientURL = (record: MachineRecord): string =>
  `https://127.0.0.1:${record.ports.etcdClient}`;
export const etcdPeerURL = (record: MachineRecord): string => `https://127.0.0.1:${record.ports.etcdPeer}`;

/** Other control-plane machines of the cluster that have (or had) an etcd member. */
async function otherMembers(scope: MachineScope): Promise<MachineRecord[]> {
  return (await readMachineRecords(scope.cluster)).filter(
    (r) =>
      r.name !== scope.record.name &&
      r.role === 'ControlPlane' &&
      r.etcd?.initialClusterState !== undefined &&
      (r.etcd.memberId !== undefined || isRunning(r.etcd.process)),
  );
}

/** The client URL of another member that answers a quorum read. */
async function healthyGateway(scope: MachineScope, gateway: EtcdGateway): Promise<string | undefined> {
  for (const other of await otherMembers(scope)) {
    if (other.etcd?.voting && (await gateway.healthy(etcdClientURL(other)))) return etcdClientURL(other);
  }
  return undefined;
}

/**
 * Claims the right to start the cluster's etcd (a file created exclusively). A claim left by a machine
 * whose folder is gone is taken over.
 */
async function claimBootstrap(scope: MachineScope): Promise<string> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(scope.cluster.etcdBootstrap, 'wx', 0o600);
      await handle.writeFile(scope.record.name);
      await handle.close();
      return scope.record.name;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = (await readFile(scope.cluster.etcdBootstrap, 'utf8').catch(() => '')).trim();
    if (owner === scope.record.name) return owner;
    const ownerRecord = owner
      ? await readFile(machinePaths(scope.cluster, owner).record).catch(() => undefined)
      : undefined;
    if (ownerRecord) return owner;
    await unlink(scope.cluster.etcdBootstrap).catch(() => undefined);
  }
  throw new Error('could not claim the etcd bootstrap');
}

/** --initial-cluster for a joining member: every member, with a name for those not started yet. */
async function initialCluster(scope: MachineScope, members: EtcdMember[], selfId: string): Promise<string> {
  const records = await readMachineRecords(scope.cluster);
  const nameOf = (m: EtcdMember): string => {
    if (m.ID === selfId) return scope.record.name;
    if (m.name) return m.name;
    const owner = records.find((r) => m.peerURLs?.includes(etcdPeerURL(r)));
    return owner?.name ?? `member-${m.ID}`;
  };
  return members.flatMap((m) => (m.peerURLs ?? []).map((url) => `${nameOf(m)}=${url}`)).join(',');
}

export function etcdArgs(scope: MachineScope): string[] {
  const etcd = scope.record.etcd;
  if (!scope.binaries || !etcd?.initialClusterState || !etcd.initialCluster) {
    throw new Error(`etcd of ${scope.record.name}: membership not decided yet`);
  }
  const files = controlPlaneFiles(scope.paths);
  const client = etcdClientURL(scope.record);
  const peer = etcdPeerURL(scope.record);
  return [
    scope.binaries.etcd,
    `--name=${scope.record.name}`,
    `--data-dir=${scope.paths.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${etcd.initialCluster}`,
    `--initial-cluster-state=${etcd.initialClusterState}`,
    `--initial-cluster-token=${scope.clusterRecord.etcdToken}`,
    '--client-cert-auth=true',
    `--trusted-ca-file=${files.etcdCACert}`,
    `--cert-file=${files.etcdServerCert}`,
    `--key-file=${files.etcdServerKey}`,
    '--peer-client-cert-auth=true',
    `--peer-trusted-ca-file=${files.etcdCACert}`,
    `--peer-cert-file=${files.etcdPeerCert}`,
    `--peer-key-file=${files.etcdPeerKey}`,
    '--snapshot-count=10000',
  ];
}

/** Decides how this member comes into the cluster: founding it, or joining the members there are. */
async function decideMembership(scope: MachineScope): Promise<Progress> {
  const etcd = scope.record.etcd ?? {};
  scope.record.etcd = etcd;
  if ((await otherMembers(scope)).length > 0) {
    etcd.initialClusterState = 'existing';
  } else {
    const owner = await claimBootstrap(scope);
    if (owner !== scope.record.name) {
      return inProgress(`waiting for machine ${owner} to start the cluster's etcd`, 2_000);
    }
    etcd.initialClusterState = 'new';
    etcd.initialCluster = `${scope.record.name}=${etcdPeerURL(scope.record)}`;
  }
  await saveMachine(scope);
  return done();
}

/** Adds this machine as a learner through a running member (once: found again by its peer URL). */
async function joinAsLearner(scope: MachineScope, gateway: EtcdGateway): Promise<Progress> {
  const etcd = scope.record.etcd ?? {};
  const via = await healthyGateway(scope, gateway);
  if (!via) return inProgress('waiting for a healthy etcd member to join through', 2_000);
  const peerURL = etcdPeerURL(scope.record);
  let members = await gateway.members(via);
  let mine = members.find((m) => m.peerURLs?.includes(peerURL));
  if (!mine) {
    try {
      const added = await gateway.addLearner(via, peerURL);
      mine = added.member;
      members = added.members;
    } catch (err) {
      if (err instanceof EtcdRequestError && /too many learner/.test(err.message)) {
        return inProgress('another member is joining etcd; waiting for it to be promoted', 2_000);
      }
      throw err;
    }
    scope.log.info({ machine: scope.record.name, memberId: mine.ID, via }, 'etcd member added as learner');
  }
  etcd.memberId = mine.ID;
  etcd.initialCluster = await initialCluster(scope, members, mine.ID);
  await saveMachine(scope);
  return done();
}

/** Makes this member a voter: the founder is one; a learner is promoted once it has caught up. */
async function becomeVoter(scope: MachineScope, gateway: EtcdGateway): Promise<Progress> {
  const etcd = scope.record.etcd ?? {};
  const self = etcdClientURL(scope.record);
  if (etcd.initialClusterState === 'new') {
    if (!(await gateway.healthy(self))) return inProgress('waiting for etcd to answer', 1_000);
    const me = (await gateway.members(self)).find((m) => m.peerURLs?.includes(etcdPeerURL(scope.record)));
    if (!me) throw new Error(`etcd of ${scope.record.name} does not list itself as a member`);
    etcd.memberId = me.ID;
  } else {
    const via = await healthyGateway(scope, gateway);
    if (!via) return inProgress('waiting for a healthy etcd member to promote through', 2_000);
    const me = (await gateway.members(via)).find((m) => m.ID === etcd.memberId);
    if (!me) {
      return failed(
        'EtcdMemberMissing',
        `etcd member ${etcd.memberId} of ${scope.record.name} is no longer in the cluster`,
      );
    }
    if (me.isLearner) {
      try {
        await gateway.promote(via, me.ID);
      } catch (err) {
        if (err instanceof EtcdRequestError && /in sync with leader|not started/i.test(err.message)) {
          return inProgress('etcd learner is catching up with the leader', 1_000);
        }
        throw err;
      }
      scope.log.info({ machine: scope.record.name, memberId: me.ID }, 'etcd member promoted');
    }
  }
  etcd.voting = true;
  await saveMachine(scope);
  return done();
}

/** Brings this machine's etcd member up, one step a call. Done when it is a healthy voting member. */
export async function ensureEtcdMember(scope: MachineScope, gateway: EtcdGateway): Promise<Progress> {
  scope.record.etcd ??= {};
  const etcd = scope.record.etcd;
  if (!etcd.initialClusterState) {
    const decided = await decideMembership(scope);
    if (decided.state !== 'done') return decided;
  }
  if (etcd.initialClusterState === 'existing' && !etcd.memberId) {
    const joined = await joinAsLearner(scope, gateway);
    if (joined.state !== 'done') return joined;
  }
  const proc = await ensureProcess(scope, etcd, 'etcd', () => etcdArgs(scope), {
    logPath: scope.paths.etcdLog,
  });
  if (!proc.running) return proc.progress;
  if (proc.started) return inProgress('etcd started', 1_000);
  if (!etcd.voting) {
    const voted = await becomeVoter(scope, gateway);
    if (voted.state !== 'done') return voted;
  }
  if (!(await gateway.healthy(etcdClientURL(scope.record)))) {
    return inProgress('waiting for the etcd member to be healthy', 1_000);
  }
  if (crashesForgiven(etcd)) await saveMachine(scope);
  return done();
}

/** The client URLs of the voting members, as this machine's member sees them (its own first). */
export async function votingClientURLs(scope: MachineScope, gateway: EtcdGateway): Promise<string[]> {
  const self = etcdClientURL(scope.record);
  const members = await gateway.members(self);
  const urls = members.filter((m) => !m.isLearner).flatMap((m) => m.clientURLs ?? []);
  return [self, ...urls.filter((u) => u !== self)];
}

export interface MemberRemovalPlan {
  /** done: removal may go ahead (or there is nothing to remove); failed: it must not. */
  progress: Progress;
  /** The member to remove and the member to ask; absent when there is nothing to remove. */
  memberId?: string;
  via?: string;
}

/**
 * Whether this machine's member can leave the cluster: another member must be healthy to ask, and
 * the voting members that remain must keep a quorum among the healthy ones. The last voting member
 * is not removed (the cluster ends with it).
 */
export async function planMemberRemoval(
  scope: MachineScope,
  gateway: EtcdGateway,
): Promise<MemberRemovalPlan> {
  const etcd = scope.record.etcd;
  if (!etcd?.initialClusterState) return { progress: done() };
  const peerURL = etcdPeerURL(scope.record);
  const others = await otherMembers(scope);
  let via: string | undefined;
  for (const other of others) {
    if (await gateway.healthy(etcdClientURL(other))) {
      via = etcdClientURL(other);
      break;
    }
  }
  if (!via) {
    if (others.length === 0) return { progress: done() };
    return {
      progress: failed(
        'EtcdQuorumAtRisk',
        `cannot remove the etcd member of ${scope.record.name}: none of the other members (${others
          .map((o) => o.name)
          .join(', ')}) is healthy`,
      ),
    };
  }
  const members = await gateway.members(via);
  const mine = members.find((m) => m.peerURLs?.includes(peerURL));
  if (!mine) return { progress: done() };
  const healthy = new Set<string>();
  for (const m of members) {
    const url = m.clientURLs?.[0];
    if (m.ID !== mine.ID && !m.isLearner && url && (await gateway.healthy(url))) healthy.add(m.ID);
  }
  const quorum = quorumAfterRemoval(members, mine, (m) => healthy.has(m.ID));
  if (!quorum.ok) {
    return {
      progress: failed(
        'EtcdQuorumAtRisk',
        `refusing to remove the etcd member of ${scope.record.name}: ${quorum.healthy} of the ${quorum.remaining} remaining voting members are healthy, ${quorum.quorum} are needed for a quorum`,
      ),
    };
  }
  return { progress: done(), memberId: mine.ID, via };
}

/** Removes this machine's member through another member, when planMemberRemoval allows it. */
export async function removeEtcdMember(scope: MachineScope, gateway: EtcdGateway): Promise<Progress> {
  const plan = await planMemberRemoval(scope, gateway);
  if (plan.progress.state !== 'done' || !plan.memberId || !plan.via) return plan.progress;
  const via = plan.via;
  // Leadership goes to the member asked (it answered a quorum read) before this one leaves.
  const asked = (await gateway.members(via)).filter((m) => m.clientURLs?.includes(via));
  const move = await moveLeadershipOff(gateway, etcdClientURL(scope.record), plan.memberId, asked);
  if (move.moved) scope.log.info({ machine: scope.record.name, to: move.to.name }, 'etcd leadership moved');
  else if (move.why === 'refused')
    scope.log.warn(
      { machine: scope.record.name, err: move.message },
      'etcd refused to move leadership; removing the member anyway',
    );
  try {
    await gateway.remove(plan.via, plan.memberId);
  } catch (err) {
    if (err instanceof EtcdRequestError && err.status === 404) return done();
    // etcd's own check (--strict-reconfig-check): it counts a member as active only once it has been
    // connected for a few seconds, so right after a member (re)started this passes on a later try.
    if (err instanceof EtcdRequestError && /not enough started members|unhealthy cluster/.test(err.message)) {
      return inProgress(`etcd refuses the removal for now: ${err.message}`, 2_000);
    }
    throw err;
  }
  scope.log.info(
    { machine: scope.record.name, memberId: plan.memberId, via: plan.via },
    'etcd member removed',
  );
  return done();
}

/** Stops this machine's etcd process (after removeEtcdMember). */
export async function stopEtcd(scope: MachineScope): Promise<Progress> {
  return await stopProcess(scope, scope.record.etcd, 'etcd');
}
