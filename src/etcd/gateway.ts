// etcd's v3 API through its JSON gateway (grpc-gateway on the client port), with a client certificate
// from the cluster's etcd CA. The local provider reaches its members on loopback; aws-ec2 through a
// port-forward to the member's static pod (a `dial`), as Cluster API's KubeadmControlPlane does.
import type { Duplex } from 'node:stream';
import { httpsJson, type TlsIdentity } from '../net/https.js';

export interface EtcdMember {
  /** uint64, as the gateway writes it: a decimal string. */
  ID: string;
  /** Empty until the member has started (a member added but never run has none). */
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

export interface EtcdStatus {
  /** The member that answered. */
  memberId: string;
  /** The member the answering one follows (or is); "0" while there is no leader. */
  leader: string;
  isLearner: boolean;
}

export class EtcdRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** How to reach a member's client URL when not by TCP to its host (a port-forward). */
export type EtcdDial = (clientURL: string) => Promise<Duplex>;

export class EtcdGateway {
  constructor(
    private readonly identity: TlsIdentity,
    private readonly dial?: EtcdDial,
    private readonly timeoutMs = 3_000,
  ) {}

  private opts(clientURL: string) {
    const dial = this.dial;
    return dial ? { dial: () => dial(clientURL), timeoutMs: this.timeoutMs } : { timeoutMs: this.timeoutMs };
  }

  private async call<T>(clientURL: string, path: string, body: unknown): Promise<T> {
    const res = await httpsJson<T & { code?: number; message?: string }>(
      `${clientURL}${path}`,
      this.identity,
      { method: 'POST', body, ...this.opts(clientURL) },
    );
    if (res.status !== 200 || !res.body) {
      const message = res.body?.message ?? (res.text.slice(0, 300) || `HTTP ${res.status}`);
      throw new EtcdRequestError(`etcd ${path} at ${clientURL}: ${message}`, res.status, res.body?.code);
    }
    return res.body;
  }

  async members(clientURL: string): Promise<EtcdMember[]> {
    const res = await this.call<{ members?: EtcdMember[] }>(clientURL, '/v3/cluster/member/list', {});
    return res.members ?? [];
  }

  async addLearner(
    clientURL: string,
    peerURL: string,
  ): Promise<{ member: EtcdMember; members: EtcdMember[] }> {
    const res = await this.call<{ member?: EtcdMember; members?: EtcdMember[] }>(
      clientURL,
      '/v3/cluster/member/add',
      { peerURLs: [peerURL], isLearner: true },
    );
    if (!res.member?.ID) throw new Error(`etcd member add at ${clientURL} returned no member`);
    return { member: res.member, members: res.members ?? [] };
  }

  async promote(clientURL: string, id: string): Promise<void> {
    await this.call(clientURL, '/v3/cluster/member/promote', { ID: id });
  }

  async remove(clientURL: string, id: string): Promise<void> {
    await this.call(clientURL, '/v3/cluster/member/remove', { ID: id });
  }

  /** The answering member's view: who it is, and who leads. */
  async status(clientURL: string): Promise<EtcdStatus> {
    const res = await this.call<{ header?: { member_id?: string }; leader?: string; isLearner?: boolean }>(
      clientURL,
      '/v3/maintenance/status',
      {},
    );
    return {
      memberId: res.header?.member_id ?? '0',
      leader: res.leader ?? '0',
      isLearner: res.isLearner === true,
    };
  }

  /** Hands leadership to `targetId`; etcd accepts this only from the leader itself. */
  async moveLeader(leaderClientURL: string, targetId: string): Promise<void> {
    await this.call(leaderClientURL, '/v3/maintenance/transfer-leadership', { targetID: targetId });
  }

  /** `/health`: a quorum read (or, serializable, a local one: what a learner can answer). */
  async healthy(clientURL: string, serializable = false): Promise<boolean> {
    try {
      const res = await httpsJson<{ health?: string }>(
        `${clientURL}/health${serializable ? '?serializable=true' : ''}`,
        this.identity,
        { ...this.opts(clientURL), timeoutMs: Math.min(this.timeoutMs, 2_000) },
      );
      return res.status === 200 && res.body?.health === 'true';
    } catch {
      return false;
    }
  }
}

/**
 * Whether removing `leaving` keeps a quorum: of the voting members that remain, a majority must be
 * healthy. A learner's leaving never costs a vote. The last voting member has no one left to keep.
 */
export function quorumAfterRemoval(
  members: EtcdMember[],
  leaving: EtcdMember,
  isHealthy: (m: EtcdMember) => boolean,
): { ok: boolean; healthy: number; remaining: number; quorum: number } {
  const remaining = members.filter((m) => !m.isLearner && m.ID !== leaving.ID);
  const healthy = remaining.filter(isHealthy).length;
  const quorum = Math.floor(remaining.length / 2) + 1;
  const ok = leaving.isLearner === true || remaining.length === 0 || healthy >= quorum;
  return { ok, healthy, remaining: remaining.length, quorum };
}
