// What the Cluster's phase means to a GitOps tool waiting on it (Reconciling and Stalled, see
// common/health.ts): a Failed cluster, or one whose ControlPlane is stalled, waits for a person; one
// provisioning, upgrading, scaling or deleting is on its way; a Ready or Paused one is settled.
import type { ClusterPhase } from '../../api/v1alpha1/index.js';
import type { ConditionInput } from '../common/conditions.js';
import { getCondition } from '../common/conditions.js';
import type { Health } from '../common/health.js';
import type { ClusterScope } from './scope.js';

export function clusterHealth(scope: ClusterScope, phase: ClusterPhase, ready: ConditionInput): Health {
  const failure = scope.failure();
  if (phase === 'Failed') {
    return failure
      ? { state: 'stalled', ...failure }
      : { state: 'stalled', reason: ready.reason, message: ready.message ?? '' };
  }
  const cp = scope.controlPlane;
  const cpStalled = getCondition(cp?.status?.conditions, 'Stalled');
  if (cpStalled?.status === 'True' && !scope.cluster.metadata.deletionTimestamp) {
    return {
      state: 'stalled',
      reason: cpStalled.reason ?? 'ControlPlaneStalled',
      message: `ControlPlane ${cp?.metadata.name}: ${cpStalled.message ?? ''}`,
    };
  }
  if (phase === 'Ready' || phase === 'Paused') return { state: 'settled', reason: phase };
  return { state: 'progressing', reason: phase, message: ready.message || ready.reason };
}
