// The publishers, as the Cluster reconciler runs them: after the Cluster API Secret once the control
// plane is initialized (so on every later reconcile and resync too), and first thing on deletion.
// Each configured target gets a `<Target>Published` condition; they do not count towards Ready, so a
// tool that is not installed never holds a cluster back.
import type { Condition } from '../../api/v1alpha1/meta.js';
import { apiMessage } from '../../kube/errors.js';
import { fromBase64Data } from '../../pki/pem.js';
import type { ClusterContext } from '../../provider/contract.js';
import { WorkloadTokens } from '../../publish/consumers.js';
import { publishingOptions } from '../../publish/options.js';
import type { PublishMaterial, PublishOutcome } from '../../publish/publisher.js';
import type { Registration } from '../../publish/registration.js';
import { createPublishers } from '../../publish/registry.js';
import { getCondition, setCondition } from '../common/conditions.js';
import type { ClusterScope } from './scope.js';

/** Publish conditions whose target left the spec: what they registered must be withdrawn. */
function withdrawable(scope: ClusterScope, publishers: Registration[]): Registration[] {
  const spec = scope.cluster.spec.publish ?? {};
  return publishers.filter(
    (p) => spec[p.target] === undefined && getCondition(scope.cluster.status?.conditions, p.conditionType),
  );
}

function record(scope: ClusterScope, publisher: Registration, outcome: PublishOutcome, now: Date): void {
  scope.publications.set(publisher.conditionType, outcome);
  const { cluster, deps } = scope;
  const previous = getCondition(cluster.status?.conditions, publisher.conditionType);
  switch (outcome.state) {
    case 'published':
      if (outcome.wrote) {
        scope.log.info({ target: publisher.target, objects: outcome.objects }, 'published');
        deps.events.normal(
          cluster,
          'Published',
          `${publisher.def.tool}: wrote ${outcome.objects.join(', ')}`,
        );
      }
      scope.requeueAfter(Math.max(1_000, outcome.refreshAt.getTime() - now.getTime()));
      break;
    case 'withdrawn':
      scope.log.info({ target: publisher.target, objects: outcome.removed }, 'publication withdrawn');
      deps.events.normal(
        cluster,
        'Unpublished',
        `${publisher.def.tool}: removed ${outcome.removed.join(', ') || 'nothing'}`,
      );
      break;
    case 'failed':
      if (previous?.reason !== outcome.reason) {
        scope.log.warn(
          { target: publisher.target, reason: outcome.reason, detail: outcome.message },
          'publish failed',
        );
        deps.events.warning(cluster, outcome.reason, `${publisher.def.tool}: ${outcome.message}`);
      }
      scope.requeueAfter(outcome.retryAfterMs);
      break;
  }
}

/** Registers the cluster with every tool in `spec.publish`, and withdraws the registrations of tools taken out of it. */
export async function publishToConsumers(scope: ClusterScope, ctx: ClusterContext): Promise<void> {
  const publishers = createPublishers(scope.deps.writer);
  const spec = scope.cluster.spec.publish ?? {};
  const wanted = publishers.filter((p) => spec[p.target] !== undefined);
  const stale = withdrawable(scope, publishers);
  if (wanted.length === 0 && stale.length === 0) return;
  const now = new Date();
  const options = publishingOptions();
  let material: PublishMaterial;
  try {
    const admin = await scope.provider.kubeconfig(ctx);
    material = {
      server: admin.server,
      caPEM: fromBase64Data(admin.caData),
      ...(admin.managed ? { managed: admin.managed } : {}),
      tokens: WorkloadTokens.fromAdmin(admin, options.tokenTTLSeconds),
      now,
      refreshAfter: options.refreshAfter,
    };
  } catch (err) {
    const outcome: PublishOutcome = {
      state: 'failed',
      reason: 'WorkloadCredentialUnavailable',
      message: `the provider gave no admin credential to reach the workload cluster with: ${apiMessage(err)}`,
      retryAfterMs: 15_000,
    };
    for (const p of [...wanted, ...stale]) record(scope, p, outcome, now);
    return;
  }
  const reachable = scope.provider.servesWorkloadAPI;
  for (const p of wanted) {
    // A simulated cluster has no API to mint a token in: say so once, and do not retry in a loop.
    const outcome =
      !reachable && p.mintsTokens(scope.cluster, material)
        ? workloadAPIUnavailable(scope, p)
        : await p.ensure(scope.cluster, material);
    record(scope, p, outcome, now);
  }
  // A tool that reached the cluster with its own identity was given none to take back; nor was one
  // of a cluster whose API does not answer.
  for (const p of stale) {
    const tokens = reachable && p.mintsTokens(scope.cluster, material) ? material.tokens : undefined;
    record(scope, p, await p.remove(scope.cluster, tokens), now);
  }
}

/** Retried at the Ready resync only: nothing changes it but the spec, and a spec change reconciles at once. */
const UNREACHABLE_RETRY_MS = 5 * 60_000;

function workloadAPIUnavailable(scope: ClusterScope, publisher: Registration): PublishOutcome {
  return {
    state: 'failed',
    reason: 'WorkloadAPIUnavailable',
    message: `${publisher.def.tool} needs a ServiceAccount token from the workload cluster's API, and the ${scope.provider.name} provider's clusters serve none; the ${scope.cluster.metadata.name}-kubeconfig Secret is still published`,
    retryAfterMs: UNREACHABLE_RETRY_MS,
  };
}

/**
 * On deletion: removes everything any publisher wrote for the cluster, wherever it is (the workload
 * cluster's own identities go with the cluster). Returns whether nothing is left; what blocks is
 * said in the Deleting condition.
 */
export async function withdrawPublications(scope: ClusterScope): Promise<boolean> {
  const { cluster } = scope;
  const publishers = createPublishers(scope.deps.writer);
  const used = publishers.filter(
    (p) =>
      cluster.spec.publish?.[p.target] !== undefined ||
      getCondition(cluster.status?.conditions, p.conditionType),
  );
  const failures: string[] = [];
  for (const p of used) {
    const outcome = await p.remove(cluster);
    if (outcome.state === 'failed') failures.push(outcome.message);
    else if (outcome.state === 'withdrawn' && outcome.removed.length > 0) {
      scope.log.info({ target: p.target, objects: outcome.removed }, 'publication withdrawn');
    }
  }
  if (failures.length > 0) {
    scope.deletion = { step: 'WithdrawingPublications', waitingFor: failures.join('; ') };
    scope.requeueAfter(10_000);
  }
  return failures.length === 0;
}

/** The `<Target>Published` conditions from this reconcile's outcomes: pure. */
export function publicationConditions(
  conditions: Condition[] | undefined,
  outcomes: ReadonlyMap<string, PublishOutcome>,
  generation: number | undefined,
): Condition[] | undefined {
  let list = conditions;
  for (const [type, outcome] of outcomes) {
    if (outcome.state === 'withdrawn') {
      list = list?.filter((c) => c.type !== type);
      continue;
    }
    list = setCondition(
      list,
      outcome.state === 'published'
        ? { type, status: 'True', reason: 'Published', message: outcome.message }
        : { type, status: 'False', reason: outcome.reason, message: outcome.message },
      generation,
    );
  }
  return list;
}
