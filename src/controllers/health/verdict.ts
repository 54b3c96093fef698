// Whether one Machine is healthy, as Cluster API's MachineHealthCheck judges it: its provider reports
// it failed, its Node has not been Ready for too long, or it never got a Node. Pure: the caller reads
// the Nodes and the clock.
import type { HealthCheck, Machine } from '../../api/v1alpha1/index.js';
import { parseDuration } from '../machine/drain-plan.js';

/** What a health check needs of a Node of the workload cluster. */
export interface NodeFacts {
  name: string;
  providerID?: string;
  created?: string;
  ready?: { status: string; since?: string; message?: string };
}

export interface HealthPolicy {
  unhealthyNodeMs: number;
  nodeStartupMs: number;
  maxUnhealthy: number;
  /** As the user wrote them, for messages. */
  unhealthyNodeTimeout: string;
  nodeStartupTimeout: string;
}

export function policyOf(hc: HealthCheck): HealthPolicy {
  return {
    unhealthyNodeMs: parseDuration(hc.unhealthyNodeTimeout) ?? 300_000,
    nodeStartupMs: parseDuration(hc.nodeStartupTimeout) ?? 600_000,
    maxUnhealthy: hc.maxUnhealthy,
    unhealthyNodeTimeout: hc.unhealthyNodeTimeout,
    nodeStartupTimeout: hc.nodeStartupTimeout,
  };
}

export type Verdict =
  | { healthy: true /** When a timeout that runs now would expire. */; recheckAfterMs?: number }
  | { healthy: false; reason: string; message: string };

const seconds = (ms: number) => `${Math.round(ms / 1000)}s`;

/**
 * The verdict on `machine`. `nodes` is undefined when the workload cluster's API did not answer:
 * then only the provider's word counts, as an unreachable API says nothing about a single Node.
 */
export function judgeMachine(
  machine: Machine,
  nodes: readonly NodeFacts[] | undefined,
  policy: HealthPolicy,
  now: Date,
  /** When a Node could first register (the control plane's initialization): startup counts from then. */
  nodesPossibleSince?: string,
): Verdict {
  const failure = machine.status?.failureReason;
  if (failure) {
    return { healthy: false, reason: failure, message: machine.status?.failureMessage ?? failure };
  }
  if (!nodes) return { healthy: true };
  const nodeName = machine.status?.nodeRef?.name;
  const providerID = machine.spec.providerID;
  const node = nodes.find(
    (n) => (nodeName && n.name === nodeName) || (providerID && n.providerID === providerID),
  );
  if (!node) {
    if (nodeName) {
      return { healthy: false, reason: 'NodeNotFound', message: `Node ${nodeName} is gone from the cluster` };
    }
    const created = Date.parse(machine.metadata.creationTimestamp ?? now.toISOString());
    const possible = nodesPossibleSince ? Date.parse(nodesPossibleSince) : Number.NaN;
    const waited = now.getTime() - (Number.isNaN(possible) ? created : Math.max(created, possible));
    if (waited >= policy.nodeStartupMs) {
      return {
        healthy: false,
        reason: 'NodeStartupTimeout',
        message: `no Node after ${seconds(waited)} (nodeStartupTimeout ${policy.nodeStartupTimeout})`,
      };
    }
    return { healthy: true, recheckAfterMs: policy.nodeStartupMs - waited };
  }
  const ready = node.ready;
  if (ready?.status === 'True') return { healthy: true };
  const status = ready?.status ?? 'Unknown';
  const since = Date.parse(ready?.since ?? node.created ?? now.toISOString());
  const waited = now.getTime() - since;
  if (waited < policy.unhealthyNodeMs)
    return { healthy: true, recheckAfterMs: policy.unhealthyNodeMs - waited };
  const why = ready?.message ? `: ${ready.message}` : '';
  return {
    healthy: false,
    reason: 'NodeNotReady',
    message: `Node ${node.name} has been Ready=${status} for ${seconds(waited)} (unhealthyNodeTimeout ${policy.unhealthyNodeTimeout})${why}`,
  };
}
