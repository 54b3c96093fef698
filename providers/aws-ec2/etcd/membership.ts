// etcd membership of an aws-ec2 control plane, kept by the operator as KubeadmControlPlane keeps it:
// - before a control-plane machine's instance is terminated, leadership is moved off its member and
//   the member is removed through another one, unless the voting members left would lose quorum;
// - members that belong to no control-plane machine (its machine is gone, or it was added by a
//   `kubeadm join` that never started it) are removed, once every machine's node is known.
// kubeadm adds members itself (`kubeadm join --control-plane`); the operator only takes them away.
// A control plane without etcd pods in kube-system does not run kubeadm's stacked etcd: nothing to do.
import type { Logger } from 'pino';
import type { Machine } from '../../../src/api/v1alpha1/index.js';
import {
  type EtcdGateway,
  type EtcdMember,
  EtcdRequestError,
  quorumAfterRemoval,
} from '../../../src/etcd/gateway.js';
import { moveLeadershipOff } from '../../../src/etcd/leadership.js';
import {
  done,
  failed,
  inProgress,
  type MachineContext,
  type Progress,
} from '../../../src/provider/contract.js';
import { isNotFound } from '../../../src/runtime/errors.js';
import { type KubeClient, resourcePath } from '../../../src/runtime/transport.js';
import {
  ETCD_NAMESPACE,
  EtcdIdentities,
  etcdPodName,
  internalIPOf,
  memberURL,
  nodeNameOf,
  peerHost,
  portForwardedGateway,
} from './access.js';

/** How often a settled control plane's member list is looked at again for strays. */
const TIDY_INTERVAL_MS = 5 * 60_000;
/** How soon after a failed look it is tried again. */
const TIDY_RETRY_MS = 30_000;
const PODS = { group: '', version: 'v1', plural: 'pods' };

interface Seen {
  /** The control plane's nodes when the members were last found to match them. */
  nodes: string;
  at: number;
}

const clusterKey = (ctx: MachineContext): string =>
  ctx.cluster.metadata.uid ?? `${ctx.cluster.metadata.namespace}/${ctx.cluster.metadata.name}`;

const controlPlaneOf = (ctx: MachineContext): Machine[] => [
  ctx.machine,
  ...ctx.peers.filter((p) => p.spec.role === 'ControlPlane'),
];

/** Whether `member` is the one of the machine with this node name and address. */
const belongsTo = (member: EtcdMember, node: string | undefined, ip: string | undefined): boolean =>
  (node !== undefined && member.name === node) || (ip !== undefined && peerHost(member.peerURLs) === ip);

/**
 * Leadership candidates, the member of the newest machine first (as KubeadmControlPlane picks): a
 * scale-down or rollout takes the oldest machines first, so the new leader is the last to go.
 */
function newestFirst(ctx: MachineContext, members: EtcdMember[]): EtcdMember[] {
  const created = (m: EtcdMember): string => {
    const machine = ctx.peers.find((p) => p.spec.role === 'ControlPlane' && nodeNameOf(p) === m.name);
    return machine?.metadata.creationTimestamp ?? '';
  };
  return [...members].sort((a, b) => created(b).localeCompare(created(a)));
}

export class EtcdMembership {
  private readonly identities = new EtcdIdentities();
  private readonly seen = new Map<string, Seen>();
  /** Machines (by UID) whose member this process removed: a repeated delete pass costs nothing. */
  private readonly removed = new Set<string>();

  constructor(private readonly kube: (ctx: MachineContext) => Promise<KubeClient>) {}

  private async access(
    ctx: MachineContext,
  ): Promise<{ client: KubeClient; gateway: EtcdGateway } | undefined> {
    if (!ctx.certificates) return undefined;
    const identity = await this.identities.of(clusterKey(ctx), ctx.certificates.etcd);
    const client = await this.kube(ctx);
    return { client, gateway: portForwardedGateway(client.kubeConfig, identity) };
  }

  /** The nodes that have an etcd pod (kubeadm's static pod, mirrored in kube-system). */
  private async withPods(client: KubeClient, nodes: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const node of nodes) {
      try {
        const path = resourcePath(PODS, { namespace: ETCD_NAMESPACE, name: etcdPodName(node) });
        await client.request({ method: 'GET', path });
        out.push(node);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return out;
  }

  /** The first of these nodes whose member answers a quorum read. */
  private async answering(gateway: EtcdGateway, nodes: string[]): Promise<string | undefined> {
    for (const node of nodes) if (await gateway.healthy(memberURL(node))) return node;
    return undefined;
  }

  /** Voting members (by ID) that answer a quorum read at their node's pod. */
  private async healthyMembers(gateway: EtcdGateway, members: EtcdMember[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const m of members) {
      if (!m.isLearner && m.name && (await gateway.healthy(memberURL(m.name)))) out.add(m.ID);
    }
    return out;
  }

  /**
   * Removes the machine's member before its instance goes: done when it has no member (any more),
   * when the whole cluster is being deleted, or when it is the last one.
   */
  async beforeDelete(ctx: MachineContext, log: Logger): Promise<Progress> {
    if (ctx.machine.spec.role !== 'ControlPlane' || ctx.cluster.metadata.deletionTimestamp) return done();
    const node = nodeNameOf(ctx.machine);
    const ip = internalIPOf(ctx.machine);
    if (!node && !ip) return done();
    const machineUid = ctx.machine.metadata.uid ?? ctx.machine.metadata.name ?? '';
    if (this.removed.has(machineUid)) return done();
    const access = await this.access(ctx);
    if (!access) return inProgress('waiting for the cluster certificates to reach etcd', 5_000);
    const { client, gateway } = access;
    const others = controlPlaneOf(ctx)
      .slice(1)
      .flatMap((m) => nodeNameOf(m) ?? []);
    if (others.length === 0) return done();
    const peers = await this.withPods(client, others);
    if (peers.length === 0 && (await this.withPods(client, node ? [node] : [])).length === 0) {
      log.info(
        { nodes: [node, ...others] },
        'no etcd pod on any control-plane node: no stacked etcd to leave',
      );
      return done();
    }
    const via = await this.answering(gateway, peers);
    if (!via) {
      return inProgress(
        `waiting for an etcd member of ${peers.join(', ')} to answer through the workload API (pod kube-system/etcd-<node>), to remove the member of ${node ?? ip}`,
        15_000,
      );
    }
    const members = await gateway.members(memberURL(via));
    const mine = members.find((m) => belongsTo(m, node, ip));
    if (!mine) {
      this.removed.add(machineUid);
      return done();
    }
    const healthy = await this.healthyMembers(gateway, members);
    const quorum = quorumAfterRemoval(members, mine, (m) => healthy.has(m.ID));
    if (!quorum.ok) {
      return failed(
        'EtcdQuorumAtRisk',
        `refusing to remove the etcd member of ${node ?? ip}: ${quorum.healthy} of the ${quorum.remaining} remaining voting members are healthy, ${quorum.quorum} are needed for a quorum`,
      );
    }
    if (!mine.isLearner && mine.name) {
      const candidates = newestFirst(
        ctx,
        members.filter((m) => healthy.has(m.ID) && m.ID !== mine.ID),
      );
      const move = await moveLeadershipOff(gateway, memberURL(mine.name), mine.ID, candidates);
      if (move.moved) log.info({ from: mine.name, to: move.to.name }, 'etcd leadership moved');
      else if (move.why === 'refused')
        log.warn(
          { from: mine.name, err: move.message },
          'etcd refused to move leadership; removing the member anyway',
        );
    }
    const removed = await this.remove(gateway, via, mine, log, 'its machine is being deleted');
    if (removed.state === 'done') this.removed.add(machineUid);
    return removed;
  }

  private async remove(
    gateway: EtcdGateway,
    via: string,
    member: EtcdMember,
    log: Logger,
    why: string,
  ): Promise<Progress> {
    try {
      await gateway.remove(memberURL(via), member.ID);
    } catch (err) {
      if (err instanceof EtcdRequestError && err.status === 404) return done();
      // etcd's own guard (--strict-reconfig-check) counts a member as started only after a few
      // seconds connected: right after one (re)started, the removal passes on a later try.
      if (
        err instanceof EtcdRequestError &&
        /not enough started members|unhealthy cluster/.test(err.message)
      ) {
        return inProgress(`etcd refuses the removal for now: ${err.message}`, 2_000);
      }
      throw err;
    }
    log.info(
      { memberId: member.ID, member: member.name || member.peerURLs?.join(','), via, why },
      'etcd member removed',
    );
    return done();
  }

  /**
   * Removes members no control-plane machine owns. Runs when the control plane's nodes change, and
   * every few minutes; only once every machine has reported its node (before that, a member of a
   * joining machine could not be told from a stray one). Never throws: it is housekeeping.
   */
  async tidy(ctx: MachineContext, log: Logger): Promise<void> {
    if (ctx.machine.spec.role !== 'ControlPlane' || ctx.cluster.metadata.deletionTimestamp) return;
    const machines = controlPlaneOf(ctx);
    const nodes = machines.map(nodeNameOf);
    if (nodes.some((n) => n === undefined)) return;
    const key = clusterKey(ctx);
    const signature = [...(nodes as string[])].sort().join(',');
    const seen = this.seen.get(key);
    if (seen && seen.nodes === signature && Date.now() - seen.at < TIDY_INTERVAL_MS) return;
    const retryLater = (): void => {
      this.seen.set(key, { nodes: signature, at: Date.now() - TIDY_INTERVAL_MS + TIDY_RETRY_MS });
    };
    try {
      const access = await this.access(ctx);
      if (!access) return;
      const { client, gateway } = access;
      const self = nodes[0] as string;
      if ((await this.withPods(client, [self])).length === 0) {
        // No stacked etcd here (or not up yet): look again in a while, not on every pass.
        this.seen.set(key, { nodes: signature, at: Date.now() });
        return;
      }
      if (!(await gateway.healthy(memberURL(self)))) return retryLater();
      const members = await gateway.members(memberURL(self));
      const owned = (m: EtcdMember) =>
        machines.some((machine) => belongsTo(m, nodeNameOf(machine), internalIPOf(machine)));
      const strays = members.filter((m) => !owned(m));
      let settled = true;
      let left = members;
      const healthy = strays.length > 0 ? await this.healthyMembers(gateway, members) : new Set<string>();
      for (const stray of strays) {
        const quorum = quorumAfterRemoval(left, stray, (m) => healthy.has(m.ID));
        if (!quorum.ok) {
          log.warn(
            { member: stray.name, memberId: stray.ID, ...quorum },
            'keeping a stray etcd member: removing it would lose quorum',
          );
          settled = false;
          continue;
        }
        const why = stray.name
          ? 'no control-plane machine has its node'
          : 'it never started and no machine has its address';
        const removed = await this.remove(gateway, self, stray, log, why);
        if (removed.state === 'done') left = left.filter((m) => m.ID !== stray.ID);
        else settled = false;
      }
      if (settled) this.seen.set(key, { nodes: signature, at: Date.now() });
      else retryLater();
    } catch (err) {
      retryLater();
      log.warn({ err: (err as Error).message }, 'could not look at the etcd members');
    }
  }

  /** Forgets what it knew of a cluster (deleted). */
  forget(clusterUid: string): void {
    this.seen.delete(clusterUid);
    this.removed.clear();
    this.identities.forget(clusterUid);
  }
}
