// Before a voting member leaves, leadership is handed to another member, so the cluster does not
// stall for an election when the leader is removed (Cluster API's KubeadmControlPlane does the same
// before it removes a machine's member).
import type { EtcdGateway, EtcdMember } from './gateway.js';

export type LeadershipMove =
  | { moved: false; why: 'not-leader' | 'unreachable' | 'no-candidate' }
  | { moved: false; why: 'refused'; message: string }
  | { moved: true; to: EtcdMember };

/**
 * Moves leadership off the member at `leavingURL` (id `leavingId`) to the first of `candidates`,
 * when it leads. etcd accepts the move only from the leader, so it is asked itself. A member that
 * does not answer does not lead a healthy cluster: nothing to move then. A refused move does not
 * hold the removal back: etcd's leader steps down by itself when it is removed, only less gently.
 */
export async function moveLeadershipOff(
  gateway: EtcdGateway,
  leavingURL: string,
  leavingId: string,
  candidates: EtcdMember[],
): Promise<LeadershipMove> {
  let leader: string;
  try {
    leader = (await gateway.status(leavingURL)).leader;
  } catch {
    return { moved: false, why: 'unreachable' };
  }
  if (leader !== leavingId) return { moved: false, why: 'not-leader' };
  const to = candidates.find((m) => m.ID !== leavingId && !m.isLearner && m.name);
  if (!to) return { moved: false, why: 'no-candidate' };
  try {
    await gateway.moveLeader(leavingURL, to.ID);
  } catch (err) {
    return { moved: false, why: 'refused', message: (err as Error).message };
  }
  return { moved: true, to };
}
