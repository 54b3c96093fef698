// An owner's health-check round (ControlPlane or MachineDeployment with spec.healthCheck): judge each
// Machine, say so on it (HealthCheckSucceeded, OwnerRemediated), and delete those the plan allows. The
// deletion drains the Node first (machine/drain-step.ts) and the owner's rollout makes replacements.
import type { Logger } from 'pino';
import type { Cluster, HealthCheck, Machine } from '../../api/v1alpha1/index.js';
import type { Condition } from '../../api/v1alpha1/meta.js';
import { resources } from '../../kube/resources.js';
import { isConflict } from '../../runtime/errors.js';
import { type ConditionInput, getCondition, setCondition } from '../common/conditions.js';
import type { MachineOwner } from '../common/machines.js';
import { controlPlaneOfCluster, isMachineReady } from '../common/queries.js';
import type { ControllerDeps } from '../deps.js';
import { workloadNodes } from './nodes.js';
import { type Candidate, planRemediation, type RemediationPlan } from './remediation-plan.js';
import { judgeMachine, policyOf, type Verdict } from './verdict.js';

export const HEALTHY = 'HealthCheckSucceeded';
export const REMEDIATED = 'OwnerRemediated';
export const ALLOWED = 'RemediationAllowed';
const REMEDIATING = 'Remediating';

export interface HealthRound {
  /** Machines deleted in this round: the caller's rollout counts them as deleting already. */
  remediated: Set<string>;
  /** The owner's RemediationAllowed condition; undefined without a health check. */
  condition?: ConditionInput;
  /** When a running timeout expires, or a not-ready machine should be looked at again. */
  recheck?: { requeueAfterMs: number };
}

const NOT_READY_RECHECK_MS = 10_000;

export async function healthRound(
  deps: ControllerDeps,
  owner: MachineOwner & {
    spec: { healthCheck?: HealthCheck | undefined };
    status?: { conditions?: Condition[] };
  },
  cluster: Cluster,
  machines: readonly Machine[],
  log: Logger,
): Promise<HealthRound> {
  const hc = owner.spec.healthCheck;
  const provider = deps.providers.for(cluster);
  if (!hc || !provider) return { remediated: new Set() };
  const policy = policyOf(hc);
  // A machine that registers no Node is judged by its provider's report alone.
  const judgedByNode = owner.kind === 'MachineDeployment' || provider.controlPlaneNodes === true;
  const { nodes, unreachable } = judgedByNode
    ? await workloadNodes(deps, provider, cluster, log)
    : { nodes: undefined, unreachable: undefined };
  const now = new Date();
  // No Node registers before the API serves: a worker's startup counts from then, as in Cluster API.
  const available =
    owner.kind === 'MachineDeployment'
      ? getCondition(controlPlaneOfCluster(deps, cluster)?.status?.conditions, 'Available')
      : undefined;
  const since = available?.status === 'True' ? available.lastTransitionTime : undefined;
  const verdicts = new Map<string, Verdict>();
  for (const m of machines)
    if (!m.metadata.deletionTimestamp)
      verdicts.set(m.metadata.name!, judgeMachine(m, nodes, policy, now, since));
  const plan = planRemediation({
    machines: machines.map((m) => candidateOf(m, verdicts.get(m.metadata.name!))),
    maxUnhealthy: policy.maxUnhealthy,
    controlPlane: owner.kind === 'ControlPlane',
  });
  const remediated = new Set<string>();
  for (const m of machines) {
    const name = m.metadata.name!;
    const verdict = verdicts.get(name);
    if (!verdict) continue;
    const now = plan.remediate.includes(name);
    // Deleted only once it says Remediating: that is how later rounds count it against maxUnhealthy.
    if ((await recordVerdict(deps, m, verdict, plan, now, log)) && now) remediated.add(name);
  }
  for (const name of remediated) {
    await deps.writer.delete(resources.Machine, owner.metadata.namespace!, name);
    deps.events.normal(owner, 'MachineRemediated', `replacing unhealthy machine ${name}`);
  }
  const rechecks = [...verdicts.values()].flatMap((v) =>
    v.healthy && v.recheckAfterMs ? [v.recheckAfterMs] : [],
  );
  if (machines.some((m) => !m.metadata.deletionTimestamp && !isMachineReady(m)))
    rechecks.push(NOT_READY_RECHECK_MS);
  const condition = ownerCondition(plan, unreachable);
  if (
    condition.status === 'False' &&
    getCondition(owner.status?.conditions, ALLOWED)?.reason !== condition.reason
  ) {
    log.warn({ reason: condition.reason, detail: condition.message }, 'remediation held');
    deps.events.warning(owner, condition.reason, condition.message ?? '');
  }
  return {
    remediated,
    condition,
    ...(rechecks.length > 0 ? { recheck: { requeueAfterMs: Math.max(1_000, Math.min(...rechecks)) } } : {}),
  };
}

function candidateOf(m: Machine, verdict: Verdict | undefined): Candidate {
  return {
    name: m.metadata.name!,
    ...(verdict && !verdict.healthy
      ? { unhealthy: { reason: verdict.reason, message: verdict.message } }
      : {}),
    deleting: Boolean(m.metadata.deletionTimestamp),
    // Deleting and unhealthy, whoever deleted it: it counts against maxUnhealthy until it is gone.
    remediating:
      getCondition(m.status?.conditions, REMEDIATED)?.reason === REMEDIATING ||
      getCondition(m.status?.conditions, HEALTHY)?.status === 'False',
    ready: isMachineReady(m),
    created: m.metadata.creationTimestamp ?? '',
  };
}

function ownerCondition(plan: RemediationPlan, unreachable: string | undefined): ConditionInput {
  if (plan.held && plan.remediate.length === 0)
    return { type: ALLOWED, status: 'False', reason: plan.held.reason, message: plan.held.message };
  const nodes = unreachable ? `; Node checks wait: ${unreachable}` : '';
  return {
    type: ALLOWED,
    status: 'True',
    reason: 'RemediationAllowed',
    message: `${plan.unhealthy} machine(s) unhealthy${nodes}`,
  };
}

/**
 * The Machine's health conditions, written and evented only when they change; false when the Machine
 * changed since the cache saw it (the next round writes them).
 */
async function recordVerdict(
  deps: ControllerDeps,
  m: Machine,
  verdict: Verdict,
  plan: RemediationPlan,
  remediateNow: boolean,
  log: Logger,
): Promise<boolean> {
  const gen = m.metadata.generation;
  const before = m.status?.conditions;
  let conditions: Condition[];
  if (verdict.healthy) {
    conditions = setCondition(before, { type: HEALTHY, status: 'True', reason: 'HealthCheckPassed' }, gen);
    conditions = conditions.filter((c) => c.type !== REMEDIATED);
  } else {
    conditions = setCondition(
      before,
      { type: HEALTHY, status: 'False', reason: verdict.reason, message: verdict.message },
      gen,
    );
    const remediation: ConditionInput = remediateNow
      ? {
          type: REMEDIATED,
          status: 'False',
          reason: REMEDIATING,
          message: 'deleting the machine (its Node is drained first); its owner makes a replacement',
        }
      : {
          type: REMEDIATED,
          status: 'False',
          reason: 'WaitingForRemediation',
          message: plan.held?.message ?? 'waiting for its turn',
        };
    conditions = setCondition(conditions, remediation, gen);
  }
  try {
    await deps.writer.writeStatusIfUnchanged(resources.Machine, m, { ...m.status, conditions });
  } catch (err) {
    if (isConflict(err)) return false;
    throw err;
  }
  if (!verdict.healthy && getCondition(before, HEALTHY)?.status !== 'False') {
    log.warn(
      { machine: m.metadata.name, reason: verdict.reason, detail: verdict.message },
      'machine unhealthy',
    );
    deps.events.warning(m, 'MachineUnhealthy', `${verdict.reason}: ${verdict.message}`);
  }
  if (remediateNow) deps.events.normal(m, REMEDIATING, 'unhealthy: deleted to be replaced by its owner');
  return true;
}

/**
 * The owner's conditions with RemediationAllowed from this round; as they were when no round ran (its
 * machines were not all in the cache yet); without it when no health check is set.
 */
export function withRemediationCondition(
  conditions: Condition[],
  round: HealthRound | undefined,
  generation: number | undefined,
): Condition[] {
  if (!round) return conditions;
  if (!round.condition) return conditions.filter((c) => c.type !== ALLOWED);
  return setCondition(conditions, round.condition, generation);
}
