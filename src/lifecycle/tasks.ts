// What the reconciler must do in each state, every reconcile, and the Cluster phase each state shows. The
// reconciler is level-triggered: the ensure and publish tasks run in every state that keeps the cluster up,
// so drift is repaired in `ready` as well as on the way there. Tasks are listed in the order to run them.
import type { ClusterPhase } from '../api/v1alpha1/cluster.js';
import { isLifecycleState, type LifecycleState } from './states.js';

export const TASKS = [
  'ensureInfrastructure',
  'ensureCertificates',
  'ensureControlPlane',
  'publishKubeconfig',
  'ensureWorkers',
  'upgradeControlPlane',
  'upgradeWorkers',
  'scale',
  'deleteWorkers',
  'deleteControlPlane',
  'deleteInfrastructure',
  'removeFinalizer',
] as const;

/**
 * A named piece of work; every one is idempotent and quick (start work, report progress, never block).
 * - ensure*: the part exists and converges to its spec at the version it runs now; never changes a version.
 * - publishKubeconfig: the `<cluster>-kubeconfig` Secret (and the configured publishers) are up to date.
 * - upgradeControlPlane / upgradeWorkers: roll that part to `desiredVersion`.
 * - scale: bring machine counts to the desired replicas (control plane one member at a time).
 * - delete*: delete that part and everything it owns; removeFinalizer releases the Cluster.
 */
export type Task = (typeof TASKS)[number];

const KEEP_UP = [
  'ensureInfrastructure',
  'ensureCertificates',
  'ensureControlPlane',
  'publishKubeconfig',
  'ensureWorkers',
] as const;

const TASKS_OF: Record<LifecycleState, readonly Task[]> = {
  pending: ['ensureInfrastructure', 'ensureCertificates'],
  provisioningInfrastructure: ['ensureInfrastructure', 'ensureCertificates'],
  provisioningControlPlane: [
    'ensureInfrastructure',
    'ensureCertificates',
    'ensureControlPlane',
    'publishKubeconfig',
  ],
  provisioningWorkers: KEEP_UP,
  ready: KEEP_UP,
  'upgrading.controlPlane': [
    'ensureInfrastructure',
    'ensureCertificates',
    'upgradeControlPlane',
    'publishKubeconfig',
    'ensureWorkers',
  ],
  'upgrading.workers': [
    'ensureInfrastructure',
    'ensureCertificates',
    'ensureControlPlane',
    'publishKubeconfig',
    'upgradeWorkers',
  ],
  scaling: [...KEEP_UP, 'scale'],
  'deleting.workers': ['deleteWorkers'],
  'deleting.controlPlane': ['deleteControlPlane'],
  'deleting.infrastructure': ['deleteInfrastructure'],
  'deleting.finalizer': ['removeFinalizer'],
  deleted: [],
  // Nothing runs: the reconciler requeues with back-off and the next observation decides.
  failed: [],
  paused: [],
};

const PHASE_OF: Record<LifecycleState, ClusterPhase> = {
  pending: 'Pending',
  provisioningInfrastructure: 'Provisioning',
  provisioningControlPlane: 'Provisioning',
  provisioningWorkers: 'Provisioning',
  ready: 'Ready',
  'upgrading.controlPlane': 'Upgrading',
  'upgrading.workers': 'Upgrading',
  scaling: 'Scaling',
  'deleting.workers': 'Deleting',
  'deleting.controlPlane': 'Deleting',
  'deleting.infrastructure': 'Deleting',
  'deleting.finalizer': 'Deleting',
  deleted: 'Deleting',
  failed: 'Failed',
  paused: 'Paused',
};

function known(state: string): LifecycleState {
  if (!isLifecycleState(state)) throw new RangeError(`unknown lifecycle state ${JSON.stringify(state)}`);
  return state;
}

/** The tasks of a state, in order. Throws on a state the machine does not have. */
export function tasksFor(state: string): Task[] {
  return [...TASKS_OF[known(state)]];
}

/** The Cluster phase a state shows. Throws on a state the machine does not have. */
export function phaseFor(state: string): ClusterPhase {
  return PHASE_OF[known(state)];
}
