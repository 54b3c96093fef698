// The vocabulary of the lifecycle machine: every state a cluster can rest in, as the dotted path kept in
// `status.lifecycle.state`. The machine, deriveState, the tasks and the phases all speak it.

export const LIFECYCLE_STATES = [
  'pending',
  'provisioningInfrastructure',
  'provisioningControlPlane',
  'provisioningWorkers',
  'ready',
  'upgrading.controlPlane',
  'upgrading.workers',
  'scaling',
  'deleting.workers',
  'deleting.controlPlane',
  'deleting.infrastructure',
  'deleting.finalizer',
  'deleted',
  'failed',
  'paused',
] as const;

/** A state the machine can rest in (a leaf, as a dotted path). */
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

const known: ReadonlySet<string> = new Set(LIFECYCLE_STATES);

export function isLifecycleState(value: unknown): value is LifecycleState {
  return typeof value === 'string' && known.has(value);
}
