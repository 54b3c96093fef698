// How many of an owner's unhealthy Machines may be replaced now, as Cluster API decides it: none while
// more than maxUnhealthy are unhealthy (a network split looks like many sick machines at once, and
// replacing them all would wipe the cluster); a control plane one machine at a time, and only while
// the etcd members left keep quorum. Pure: every case has a unit test.

export interface Candidate {
  name: string;
  /** Set when the health check failed. */
  unhealthy?: { reason: string; message: string };
  deleting: boolean;
  /** Deleting because a health check replaced it: counts against maxUnhealthy until it is gone. */
  remediating: boolean;
  ready: boolean;
  /** RFC 3339; the oldest unhealthy machine goes first. */
  created: string;
}

export interface RemediationInput {
  machines: readonly Candidate[];
  maxUnhealthy: number;
  /** Control-plane machines are etcd members: one at a time, and only with quorum kept. */
  controlPlane: boolean;
}

export type HoldReason = 'TooManyUnhealthy' | 'OneAtATime' | 'EtcdQuorum' | 'LastControlPlaneMachine';

export interface RemediationPlan {
  /** Machines to delete now; their owner makes replacements. */
  remediate: string[];
  /** Unhealthy machines, including those being replaced. */
  unhealthy: number;
  /** Why the unhealthy machines that are not replaced now wait; absent when nothing waits. */
  held?: { reason: HoldReason; message: string };
}

const byAge = (a: Candidate, b: Candidate) =>
  a.created.localeCompare(b.created) || a.name.localeCompare(b.name);

/** etcd's quorum: more than half of the members. */
export const quorumOf = (members: number): number => Math.floor(members / 2) + 1;

export function planRemediation(input: RemediationInput): RemediationPlan {
  const live = input.machines.filter((m) => !m.deleting);
  const sick = live.filter((m) => m.unhealthy).sort(byAge);
  const inFlight = input.machines.filter((m) => m.deleting && m.remediating);
  const unhealthy = sick.length + inFlight.length;
  if (sick.length === 0) return { remediate: [], unhealthy };
  if (unhealthy > input.maxUnhealthy) {
    return {
      remediate: [],
      unhealthy,
      held: {
        reason: 'TooManyUnhealthy',
        message: `${unhealthy} of ${input.machines.length} machines are unhealthy, more than maxUnhealthy (${input.maxUnhealthy}): none is replaced, as a network split or an outage of the whole site looks the same; fix the cause, or raise maxUnhealthy to replace them`,
      },
    };
  }
  if (!input.controlPlane) return { remediate: sick.map((m) => m.name), unhealthy };

  const deleting = input.machines.filter((m) => m.deleting);
  if (deleting.length > 0) {
    return {
      remediate: [],
      unhealthy,
      held: {
        reason: 'OneAtATime',
        message: `control-plane machines are replaced one at a time: waiting for ${deleting.map((m) => m.name).join(', ')} to be deleted`,
      },
    };
  }
  const target = sick[0]!;
  const remaining = live.filter((m) => m.name !== target.name);
  if (remaining.length === 0) {
    return {
      remediate: [],
      unhealthy,
      held: {
        reason: 'LastControlPlaneMachine',
        message: `${target.name} is the only control-plane machine: replacing it would lose the cluster's etcd data`,
      },
    };
  }
  const healthy = remaining.filter((m) => m.ready && !m.unhealthy).length;
  if (healthy < quorumOf(remaining.length)) {
    return {
      remediate: [],
      unhealthy,
      held: {
        reason: 'EtcdQuorum',
        message: `removing ${target.name} would leave ${healthy} healthy etcd member(s) of ${remaining.length}, fewer than the ${quorumOf(remaining.length)} a quorum needs`,
      },
    };
  }
  const rest = sick.length - 1;
  return {
    remediate: [target.name],
    unhealthy,
    ...(rest > 0
      ? {
          held: {
            reason: 'OneAtATime' as const,
            message: `control-plane machines are replaced one at a time: ${rest} more wait(s)`,
          },
        }
      : {}),
  };
}
