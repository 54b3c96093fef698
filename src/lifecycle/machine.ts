// The lifecycle machine of a cluster. Pure: it decides, the reconciler acts. No invoke, no after, no I/O;
// it is driven only with xstate's pure `transition()`, one `OBSERVE` event per reconcile.
//
// Shape: every resting state lists its expected moves (the lifecycle as a person tells it: provision,
// upgrade control plane then workers, scale, delete in order). Whatever else the world says is handled by one
// choice state, `rederive`, whose branches follow deriveState rule by rule. Every guard is "deriveState picks
// my target" under a name that says why, so the guards are mutually exclusive and one OBSERVE always lands
// where deriveState points. `pauseRequested` is the one move every state makes itself, because `paused`
// remembers where it came from.
import { assign, setup } from 'xstate';
import { deriveState, GUARD_FOR } from './derive.js';
import type { ObservedFailure, ObserveEvent } from './observation.js';
import type { LifecycleState } from './states.js';

/** The version of the persisted snapshot's meaning. Bump it on any change that makes old snapshots wrong. */
export const LIFECYCLE_SCHEMA_VERSION = 1;

/** Small and serialisable: it is kept in `status.lifecycle.context`. */
export interface LifecycleContext {
  /** In `failed`: the failure that stopped the cluster, with the generation that failed. */
  failure?: ObservedFailure;
  /** In `paused`: the state the cluster was in when it was paused. */
  pausedFrom?: LifecycleState;
}

const ID = 'clusterLifecycle';

function at<const S extends string>(state: S): `#clusterLifecycle.${S}` {
  return `#${ID}.${state}`;
}

const derives =
  (state: LifecycleState) =>
  ({ event }: { event: ObserveEvent }): boolean =>
    deriveState(event.world) === state;

/**
 * The move to `state`, taken when deriveState picks it. `target` is where to enter: a compound state
 * (`upgrading`, `deleting`) is entered by its name, and so starts at its initial child.
 */
function moveTo<const S extends LifecycleState, const T extends string = S>(state: S, target?: T) {
  return { guard: GUARD_FOR[state], target: at(target ?? state) } as const;
}

/** The moves of a resting state: pause first, then its own expected moves, then re-derive on anything else. */
function observe<const E extends readonly object[]>(from: LifecycleState, ...expected: E) {
  return [
    {
      guard: GUARD_FOR.paused,
      target: at('paused'),
      actions: { type: 'rememberPausedFrom', params: { state: from } },
    },
    ...expected,
    { guard: { type: 'worldMoved', params: { from } }, target: at('rederive') },
  ] as const;
}

/** A resting state: what it means, and its moves on OBSERVE (see `observe`). */
function resting<const E extends readonly object[]>(
  from: LifecycleState,
  description: string,
  ...expected: E
) {
  return { description, on: { OBSERVE: observe(from, ...expected) } };
}

export const clusterLifecycle = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as ObserveEvent,
  },
  guards: {
    pauseRequested: derives('paused'),
    deletionRequested: derives('deleting.workers'),
    workersGone: derives('deleting.controlPlane'),
    controlPlaneGone: derives('deleting.infrastructure'),
    infrastructureGone: derives('deleting.finalizer'),
    finalizerRemoved: derives('deleted'),
    failureReported: derives('failed'),
    nothingCreated: derives('pending'),
    infrastructureNotReady: derives('provisioningInfrastructure'),
    controlPlaneNotReady: derives('provisioningControlPlane'),
    workersNotReady: derives('provisioningWorkers'),
    controlPlaneVersionDiffers: derives('upgrading.controlPlane'),
    workersVersionDiffers: derives('upgrading.workers'),
    replicasDiffer: derives('scaling'),
    allReady: derives('ready'),
    worldMoved: ({ event }, params: { from: LifecycleState }) => deriveState(event.world) !== params.from,
  },
  actions: {
    rememberPausedFrom: assign((_, params: { state: LifecycleState }) => ({ pausedFrom: params.state })),
    forgetPausedFrom: assign({ pausedFrom: undefined }),
    recordFailure: assign(({ event }) => {
      const failure = event.world.failure;
      return failure
        ? { failure: { reason: failure.reason, message: failure.message, generation: failure.generation } }
        : {};
    }),
    forgetFailure: assign({ failure: undefined }),
  },
}).createMachine({
  id: ID,
  description: 'The life of one cluster, stepped once per reconcile by an OBSERVE event.',
  initial: 'pending',
  context: {},
  states: {
    pending: resting('pending', 'Nothing of the cluster exists yet.', moveTo('provisioningInfrastructure')),
    provisioningInfrastructure: resting(
      'provisioningInfrastructure',
      'The network and the control plane endpoint are being made ready.',
      moveTo('provisioningControlPlane'),
    ),
    provisioningControlPlane: resting(
      'provisioningControlPlane',
      'The control plane is being brought up (or back) to all its replicas ready.',
      moveTo('provisioningWorkers'),
      moveTo('scaling'),
    ),
    provisioningWorkers: resting(
      'provisioningWorkers',
      'The control plane is ready; the worker pools are being brought up (or back) to ready.',
      moveTo('ready'),
    ),
    ready: resting(
      'ready',
      'Every part exists, is ready, runs the desired version and has the desired replicas.',
      moveTo('upgrading.controlPlane', 'upgrading'),
      moveTo('scaling'),
    ),
    upgrading: {
      description: 'A new Kubernetes version is rolled out: the control plane first, then the workers.',
      initial: 'controlPlane',
      states: {
        controlPlane: resting(
          'upgrading.controlPlane',
          'The control plane runs an older version than desired and is being rolled.',
          moveTo('upgrading.workers'),
        ),
        workers: resting(
          'upgrading.workers',
          'The control plane runs the desired version; the worker pools are being rolled.',
          moveTo('ready'),
        ),
      },
    },
    scaling: resting(
      'scaling',
      'Machines are being added or removed to reach the desired replica counts.',
      moveTo('provisioningWorkers'),
      moveTo('ready'),
    ),
    deleting: {
      description:
        'The cluster is being deleted, in order: workers, control plane, infrastructure, finalizer.',
      initial: 'workers',
      states: {
        workers: resting(
          'deleting.workers',
          'Worker machines are being deleted.',
          moveTo('deleting.controlPlane'),
        ),
        controlPlane: resting(
          'deleting.controlPlane',
          'The workers are gone; the control plane is being deleted.',
          moveTo('deleting.infrastructure'),
        ),
        infrastructure: resting(
          'deleting.infrastructure',
          'The control plane is gone; the infrastructure is being deleted.',
          moveTo('deleting.finalizer'),
        ),
        finalizer: resting(
          'deleting.finalizer',
          'Everything owned is gone; the finalizer is being removed.',
          moveTo('deleted'),
        ),
      },
    },
    deleted: {
      type: 'final',
      description: 'Nothing is left and the finalizer is released. Final.',
    },
    failed: {
      description:
        'A failure of the current generation stopped the cluster; a spec change or its end leaves.',
      exit: 'forgetFailure',
      on: {
        OBSERVE: observe('failed', { guard: GUARD_FOR.failed, actions: 'recordFailure' }),
      },
    },
    paused: {
      description: 'Not reconciled, not even for deletion; on unpause the world decides where to go.',
      exit: 'forgetPausedFrom',
      on: {
        OBSERVE: { guard: { type: 'worldMoved', params: { from: 'paused' } }, target: at('rederive') },
      },
    },
    rederive: {
      description: 'A choice: the world moved somewhere no expected move goes; follow deriveState.',
      always: [
        moveTo('deleting.workers', 'deleting'),
        moveTo('deleting.controlPlane'),
        moveTo('deleting.infrastructure'),
        moveTo('deleting.finalizer'),
        moveTo('deleted'),
        { ...moveTo('failed'), actions: 'recordFailure' },
        moveTo('pending'),
        moveTo('upgrading.controlPlane', 'upgrading'),
        moveTo('upgrading.workers'),
        moveTo('scaling'),
        moveTo('provisioningInfrastructure'),
        moveTo('provisioningControlPlane'),
        moveTo('provisioningWorkers'),
        moveTo('ready'),
      ],
    },
  },
});

export type ClusterLifecycle = typeof clusterLifecycle;
