// The Cluster's status, computed from the scope and the lifecycle step alone: pure.
import type { ClusterPhase, ClusterStatus, LifecycleSnapshot } from '../../api/v1alpha1/index.js';
import { conditionOf, conditionOfProgress, isTrue, setCondition, summarise } from '../common/conditions.js';
import { setFailure } from '../common/failure.js';
import { withHealth } from '../common/health.js';
import { unpauseCommand } from '../common/paused.js';
import { oldestVersion } from '../common/queries.js';
import { clusterHealth } from './health.js';
import { readiness } from './observe.js';
import { publicationConditions } from './publish.js';
import type { ClusterScope } from './scope.js';

export interface LifecycleView {
  persisted: LifecycleSnapshot;
  phase: ClusterPhase;
  state: string;
}

export function clusterStatus(
  scope: ClusterScope,
  lifecycle: LifecycleView,
  succeeded: boolean,
): ClusterStatus {
  const { cluster, controlPlane: cp } = scope;
  const gen = cluster.metadata.generation;
  const prev = cluster.status ?? {};
  let conditions = prev.conditions;

  const infra = scope.infrastructure;
  if (infra && !cluster.metadata.deletionTimestamp) {
    const p = infra.progress;
    conditions = setCondition(
      conditions,
      conditionOfProgress('InfrastructureReady', p, 'Provisioned', 'Provisioning'),
      gen,
    );
  }
  if (scope.provider.selfManagedControlPlane && (scope.certificates || scope.certificatesError)) {
    conditions = setCondition(
      conditions,
      conditionOf('CertificatesReady', scope.certificates !== undefined, 'Generated', {
        reason: 'CertificatesFailed',
        message: scope.certificatesError ?? '',
      }),
      gen,
    );
  }
  // From the facts the phase is derived from (observe.ts), not the owners' Ready conditions, which are
  // written a moment after the Machines change: so the phase never reads Ready while Ready is False.
  const ready = readiness(scope);
  const cpReady = cp?.status?.conditions?.find((c) => c.type === 'Ready');
  conditions = setCondition(
    conditions,
    !cp
      ? {
          type: 'ControlPlaneReady',
          status: 'False',
          reason: 'ControlPlaneNotFound',
          message: controlPlaneMissing(scope),
        }
      : ready.controlPlane.ready
        ? { type: 'ControlPlaneReady', status: 'True', reason: 'Ready' }
        : {
            type: 'ControlPlaneReady',
            status: 'False',
            reason: (cpReady?.status === 'False' && cpReady.reason) || 'WaitingForControlPlane',
            message: `${ready.controlPlane.readyMachines} of ${cp.spec.replicas} control-plane machines ready`,
          },
    gen,
  );
  const notReady = ready.pools.filter((p) => !p.ready);
  conditions = setCondition(
    conditions,
    conditionOf('WorkersReady', notReady.length === 0, 'Ready', {
      reason: 'WaitingForWorkers',
      message: notReady
        .map(
          (p) => `${p.deployment.metadata.name}: ${p.readyMachines} of ${p.deployment.spec.replicas} ready`,
        )
        .join('; '),
    }),
    gen,
  );
  if (scope.kubeconfig) {
    const p = scope.kubeconfig.progress;
    conditions = setCondition(
      conditions,
      p.state === 'failed'
        ? { type: 'KubeconfigPublished', status: 'False', reason: p.reason, message: p.message }
        : { type: 'KubeconfigPublished', status: 'True', reason: 'Published' },
      gen,
    );
  }
  // Not part of Ready: a downstream tool that is missing never holds the cluster back.
  if (!cluster.metadata.deletionTimestamp)
    conditions = publicationConditions(conditions, scope.publications, gen);
  const pausedDeletion = cluster.metadata.deletionTimestamp && lifecycle.phase === 'Paused';
  if (cluster.metadata.deletionTimestamp) {
    conditions = setCondition(
      conditions,
      pausedDeletion
        ? { type: 'Deleting', status: 'False', reason: 'Paused', message: pausedDeletionMessage(scope) }
        : {
            type: 'Deleting',
            status: 'True',
            reason: scope.deletion?.step ?? 'Deleting',
            message: scope.deletion ? `waiting for ${scope.deletion.waitingFor}` : '',
          },
      gen,
    );
  }
  const summary = summarise(conditions ?? [], [
    'InfrastructureReady',
    ...(scope.provider.selfManagedControlPlane ? ['CertificatesReady'] : []),
    'ControlPlaneReady',
    'WorkersReady',
    'KubeconfigPublished',
  ]);
  if (lifecycle.phase === 'Paused') {
    summary.status = 'False';
    summary.reason = 'Paused';
    summary.message = pausedDeletion ? pausedDeletionMessage(scope) : 'reconciliation is paused';
  } else if (cluster.metadata.deletionTimestamp) {
    summary.status = 'False';
    summary.reason = 'Deleting';
    summary.message = scope.deletion ? `waiting for ${scope.deletion.waitingFor}` : 'deleting';
  }
  conditions = setCondition(conditions, summary, gen);
  conditions = withHealth(conditions, clusterHealth(scope, lifecycle.phase, summary), gen);
  // Sticky once the cluster has been Ready: later missing machines are scaling, not provisioning.
  conditions = setCondition(
    conditions,
    conditionOf(
      'Provisioned',
      isTrue(prev.conditions, 'Provisioned') || lifecycle.phase === 'Ready',
      'FirstReady',
      {
        reason: 'Provisioning',
        message: 'the cluster has not been Ready yet',
      },
    ),
    gen,
  );

  const status: ClusterStatus = {
    ...prev,
    conditions,
    phase: lifecycle.phase,
    lifecycle: lifecycle.persisted,
  };
  const endpoint = infra?.endpoint ?? prev.controlPlaneEndpoint;
  if (endpoint) status.controlPlaneEndpoint = endpoint;
  const version = runningVersion(scope);
  if (version) status.version = version;
  if (succeeded) status.observedGeneration = gen ?? 0;
  setFailure(status, scope.failure());
  return status;
}

/** The oldest version any machine of the cluster runs: what every part can be relied on to speak. */
function runningVersion(scope: ClusterScope): string | undefined {
  return (
    oldestVersion(scope.machines.filter((m) => !m.metadata.deletionTimestamp)) ??
    scope.controlPlane?.status?.version
  );
}

function controlPlaneMissing(scope: ClusterScope): string {
  const ref = scope.cluster.spec.controlPlaneRef;
  return ref ? `ControlPlane ${ref.name} does not exist` : 'spec.controlPlaneRef is not set';
}

/** A paused cluster is not deleted (as in Cluster API): say so, and what unblocks it. */
export function pausedDeletionMessage(scope: ClusterScope): string {
  return `the cluster is paused, so nothing of it is deleted; to go on with the deletion, unpause it: ${unpauseCommand(scope.cluster)}`;
}
