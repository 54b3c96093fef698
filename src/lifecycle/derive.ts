// deriveState: the state a fresh observer would pick from the world alone, with no history. The machine's
// guards are built on it, so stepping from any state on a stable world lands where deriveState points, and a
// snapshot rebuilt from the world agrees with one the machine reached step by step.
import type { Observation } from './observation.js';
import type { LifecycleState } from './states.js';

/**
 * The rules, most urgent first: paused beats everything (Cluster API: a paused cluster is not reconciled,
 * not even for deletion); deletion beats failure (a failed cluster must stay deletable); a current failure
 * beats progress. Before the control plane is initialised the cluster is provisioning in order
 * (infrastructure, then control plane); so it is while the control plane has not reported its version. After,
 * a version change beats everything else (control plane first, then workers, so the version-skew rules hold),
 * then replica counts, then readiness in pipeline order.
 */
export function deriveState(world: Observation): LifecycleState {
  if (world.paused) return 'paused';
  if (world.deleting) return deletingState(world);
  if (hasCurrentFailure(world)) return 'failed';
  if (!world.controlPlaneInitialized) {
    if (world.infrastructureReady) return 'provisioningControlPlane';
    return nothingCreated(world) ? 'pending' : 'provisioningInfrastructure';
  }
  // Until the control plane reports the version it runs, nothing can be said about version skew.
  if (world.controlPlaneVersion === undefined) return 'provisioningControlPlane';
  if (world.controlPlaneVersion !== world.desiredVersion) return 'upgrading.controlPlane';
  if (!world.workersAtDesiredVersion) return 'upgrading.workers';
  if (!world.replicasMatch) return 'scaling';
  if (!world.infrastructureReady) return 'provisioningInfrastructure';
  if (!world.controlPlaneReady) return 'provisioningControlPlane';
  if (!world.workersReady) return 'provisioningWorkers';
  return 'ready';
}

/** Deletion goes workers, then control plane, then infrastructure, then the finalizer. */
function deletingState(world: Observation): LifecycleState {
  const gone = world.childrenGone;
  if (!gone.workers) return 'deleting.workers';
  if (!gone.controlPlane) return 'deleting.controlPlane';
  if (!gone.infrastructure) return 'deleting.infrastructure';
  return world.finalizerRemoved === true ? 'deleted' : 'deleting.finalizer';
}

/** A failure counts while it belongs to the current generation; a spec change makes it stale. */
export function hasCurrentFailure(world: Observation): boolean {
  return world.failure !== undefined && world.failure.generation >= world.generation;
}

function nothingCreated(world: Observation): boolean {
  const gone = world.childrenGone;
  return gone.workers && gone.controlPlane && gone.infrastructure;
}

/**
 * The guard that is true exactly when deriveState picks a state, named after the fact that decides it. The
 * guards are therefore mutually exclusive: the order of a state's transitions never changes the outcome.
 */
export const GUARD_FOR = {
  paused: 'pauseRequested',
  'deleting.workers': 'deletionRequested',
  'deleting.controlPlane': 'workersGone',
  'deleting.infrastructure': 'controlPlaneGone',
  'deleting.finalizer': 'infrastructureGone',
  deleted: 'finalizerRemoved',
  failed: 'failureReported',
  pending: 'nothingCreated',
  provisioningInfrastructure: 'infrastructureNotReady',
  provisioningControlPlane: 'controlPlaneNotReady',
  provisioningWorkers: 'workersNotReady',
  'upgrading.controlPlane': 'controlPlaneVersionDiffers',
  'upgrading.workers': 'workersVersionDiffers',
  scaling: 'replicasDiffer',
  ready: 'allReady',
} as const satisfies Record<LifecycleState, string>;

export type WorldGuard = (typeof GUARD_FOR)[LifecycleState];
