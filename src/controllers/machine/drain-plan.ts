// The pure half of draining a Node (drain.ts does the calls): which pods to evict, wait for or leave
// alone, as `kubectl drain` decides with Cluster API's options (--force, --ignore-daemonsets,
// --delete-emptydir-data); which PodDisruptionBudgets cover a pod; when a drain has taken too long;
// and what the Machine's DrainingSucceeded condition says.
import type { Cluster, Machine } from '../../api/v1alpha1/index.js';
import { EXCLUDE_NODE_DRAINING_ANNOTATION } from '../../api/v1alpha1/labels.js';
import type { ConditionInput } from '../common/conditions.js';

export const DRAINED = 'DrainingSucceeded';
/** kubelet's annotation on the API's copy of a static pod: the API cannot evict what the kubelet runs itself. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export interface PodLike {
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
    deletionTimestamp?: string;
  };
  status?: { phase?: string };
}

export type PodAction = 'evict' | 'wait' | 'skip';

/**
 * What the drain does with one pod of the Node. A pod already terminating is waited for, not evicted
 * again; on an unreachable Node it never finishes terminating (no kubelet says so), so it is not
 * waited for, as Cluster API does.
 */
export function podAction(pod: PodLike, nodeUnreachable: boolean): PodAction {
  if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return 'skip';
  // The DaemonSet controller would put it straight back on the node (it tolerates unschedulable).
  if (pod.metadata.ownerReferences?.some((o) => o.controller && o.kind === 'DaemonSet')) return 'skip';
  if (pod.metadata.deletionTimestamp) return nodeUnreachable ? 'skip' : 'wait';
  return 'evict';
}

export const podName = (pod: PodLike): string => `${pod.metadata.namespace}/${pod.metadata.name}`;

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** metav1.LabelSelector semantics: an empty selector matches everything, a missing one nothing. */
export function selectorMatches(
  selector: LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const inValues = has && (e.values ?? []).includes(value as string);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export interface BudgetLike {
  metadata: { name?: string; namespace?: string };
  spec?: { selector?: LabelSelector };
}

/** The PodDisruptionBudgets (namespace/name) that cover a pod: the ones an eviction answered 429 for. */
export function budgetsOf(pod: PodLike, budgets: BudgetLike[]): string[] {
  return budgets
    .filter((b) => b.metadata.namespace === pod.metadata.namespace)
    .filter((b) => selectorMatches(b.spec?.selector, pod.metadata.labels ?? {}))
    .map((b) => `${b.metadata.namespace}/${b.metadata.name}`);
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A Go duration (`90s`, `5m`, `1h30m`, `1.5h`) in milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

/** Why the Machine is deleted without a drain, or undefined when its Node is drained first. */
export function drainSkipReason(
  machine: Machine,
  cluster: Cluster,
  servesWorkloadAPI: boolean,
): string | undefined {
  if (machine.metadata.annotations?.[EXCLUDE_NODE_DRAINING_ANNOTATION] !== undefined)
    return `the machine has the ${EXCLUDE_NODE_DRAINING_ANNOTATION} annotation`;
  // The whole cluster goes: there is nowhere to move its pods to.
  if (cluster.metadata.deletionTimestamp) return 'the cluster is being deleted';
  if (!machine.status?.nodeRef?.name) return 'the machine has no Node';
  if (!servesWorkloadAPI) return "the provider's clusters serve no API to drain through";
  return undefined;
}

/** Whether the drain is over: done, skipped, or given up at its timeout. */
export function drainFinished(machine: Machine): boolean {
  const c = machine.status?.conditions?.find((x) => x.type === DRAINED);
  return c?.status === 'True' || c?.reason === 'DrainTimedOut';
}

/** When the drain began (its condition turned False), or undefined before it did. */
export function drainStartedAt(machine: Machine): Date | undefined {
  const c = machine.status?.conditions?.find((x) => x.type === DRAINED);
  return c?.status === 'False' && c.lastTransitionTime ? new Date(c.lastTransitionTime) : undefined;
}

/** Whether nodeDrainTimeout has passed since the drain began; never when it is unset. */
export function drainTimedOut(machine: Machine, now: Date = new Date()): boolean {
  const limit = machine.spec.nodeDrainTimeout ? parseDuration(machine.spec.nodeDrainTimeout) : undefined;
  const started = drainStartedAt(machine);
  return limit !== undefined && started !== undefined && now.getTime() - started.getTime() >= limit;
}

export interface BlockedEviction {
  pod: string;
  budgets: string[];
  /** The API server's answer, e.g. "Cannot evict pod as it would violate the pod's disruption budget." */
  message: string;
}

export interface DrainProgress {
  node: string;
  /** Pods evicted or terminating, not gone yet. */
  waiting: string[];
  blocked: BlockedEviction[];
}

const MAX_NAMED = 10;

function names(list: string[]): string {
  const shown = list.slice(0, MAX_NAMED).join(', ');
  return list.length > MAX_NAMED ? `${shown} and ${list.length - MAX_NAMED} more` : shown;
}

function blockedText(b: BlockedEviction): string {
  const by = b.budgets.length > 0 ? ` by PodDisruptionBudget ${b.budgets.join(', ')}` : '';
  return `eviction of ${b.pod} blocked${by}: ${b.message}`;
}

/** The condition while the drain goes on: the pods still on the Node, and what blocks their eviction. */
export function drainingCondition(p: DrainProgress): ConditionInput {
  const parts: string[] = [];
  if (p.blocked.length > 0) {
    const shown = p.blocked.slice(0, MAX_NAMED).map(blockedText);
    if (p.blocked.length > MAX_NAMED) shown.push(`and ${p.blocked.length - MAX_NAMED} more blocked`);
    parts.push(shown.join('; '));
  }
  if (p.waiting.length > 0) parts.push(`waiting for ${names(p.waiting)} to terminate`);
  return {
    type: DRAINED,
    status: 'False',
    reason: p.blocked.length > 0 ? 'EvictionBlocked' : 'Draining',
    message: `draining Node ${p.node}: ${parts.join('; ')}`,
  };
}

export function timedOutCondition(machine: Machine, still: string): ConditionInput {
  return {
    type: DRAINED,
    status: 'False',
    reason: 'DrainTimedOut',
    message: `nodeDrainTimeout ${machine.spec.nodeDrainTimeout} passed; deleting the machine anyway (${still})`,
  };
}
