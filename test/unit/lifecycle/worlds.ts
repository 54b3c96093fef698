// Named observations for the lifecycle tests, each a small change from a healthy, ready cluster.
import { getMicrosteps, getNextTransitions } from 'xstate';
import { transitionKey } from '../../../src/lifecycle/introspect.js';
import { clusterLifecycle } from '../../../src/lifecycle/machine.js';
import type { Observation } from '../../../src/lifecycle/observation.js';
import { type LifecycleMachineSnapshot, restore } from '../../../src/lifecycle/snapshot.js';
import type { LifecycleState } from '../../../src/lifecycle/states.js';

export const OLD = 'v1.30.4';
export const NEW = 'v1.31.2';

type Change = Omit<Partial<Observation>, 'childrenGone'> & {
  childrenGone?: Partial<Observation['childrenGone']>;
};

export const healthy: Observation = {
  deleting: false,
  paused: false,
  generation: 3,
  infrastructureReady: true,
  controlPlaneInitialized: true,
  controlPlaneReady: true,
  controlPlaneVersion: NEW,
  desiredVersion: NEW,
  workersReady: true,
  workersAtDesiredVersion: true,
  replicasMatch: true,
  childrenGone: { workers: false, controlPlane: false, infrastructure: false },
};

export function world(change: Change = {}, from: Observation = healthy): Observation {
  const { childrenGone, ...rest } = change;
  const out: Observation = { ...from, ...rest, childrenGone: { ...from.childrenGone, ...childrenGone } };
  for (const key of Object.keys(out) as (keyof Observation)[]) if (out[key] === undefined) delete out[key];
  return out;
}

const nothingYet = world({
  infrastructureReady: false,
  controlPlaneInitialized: false,
  controlPlaneReady: false,
  controlPlaneVersion: undefined,
  workersReady: false,
  replicasMatch: false,
  childrenGone: { workers: true, controlPlane: true, infrastructure: true },
});

const failure = { reason: 'InsufficientCapacity', message: 'no m5.large left in eu-west-1a', generation: 3 };

/** One world per state deriveState can pick, plus a few that test the precedence rules. */
export const W = {
  nothing: nothingYet,
  infrastructureProvisioning: world({ childrenGone: { infrastructure: false } }, nothingYet),
  controlPlaneProvisioning: world(
    { infrastructureReady: true, childrenGone: { infrastructure: false } },
    nothingYet,
  ),
  // The control plane is up; the worker pools are still being created.
  firstWorkersCreated: world({ workersReady: false, replicasMatch: false }),
  workersBooting: world({ workersReady: false }),
  ready: healthy,
  controlPlaneNotReady: world({ controlPlaneReady: false }),
  infrastructureLost: world({ infrastructureReady: false }),
  controlPlaneUpgrade: world({ controlPlaneVersion: OLD, workersAtDesiredVersion: false }),
  workersUpgrade: world({ workersAtDesiredVersion: false }),
  replicasDiffer: world({ replicasMatch: false }),
  failed: world({ failure }),
  // The spec changed (generation 4) after the failure at generation 3.
  staleFailure: world({ generation: 4, failure }),
  paused: world({ paused: true }),
  pausedWhileDeleting: world({ paused: true, deleting: true }),
  deleting: world({ deleting: true }),
  deletingAndFailed: world({ deleting: true, failure }),
  workersGone: world({ deleting: true, childrenGone: { workers: true } }),
  controlPlaneGone: world({ deleting: true, childrenGone: { workers: true, controlPlane: true } }),
  allGone: world({
    deleting: true,
    childrenGone: { workers: true, controlPlane: true, infrastructure: true },
  }),
  finalizerRemoved: world({
    deleting: true,
    finalizerRemoved: true,
    childrenGone: { workers: true, controlPlane: true, infrastructure: true },
  }),
} satisfies Record<string, Observation>;

export const FAILURE = failure;

/** A machine snapshot resting in `state` with `context`, as restore() reads it from status. */
export function at(state: LifecycleState, context: Record<string, unknown> = {}, w: Observation = healthy) {
  return restore({ schemaVersion: 1, state, context }, w);
}

/**
 * The transitions xstate takes for one event, by key: for each microstep, the first transition of the
 * current state whose guard passes (evaluated with the machine's own guard implementations).
 */
export function takenTransitions(snapshot: LifecycleMachineSnapshot, w: Observation): string[] {
  const event = { type: 'OBSERVE' as const, world: w };
  const guards = clusterLifecycle.implementations.guards as Record<
    string,
    (args: { context: unknown; event: unknown }, params: unknown) => boolean
  >;
  const taken: string[] = [];
  let previous = snapshot;
  getMicrosteps(clusterLifecycle, snapshot, event).forEach(([next], i) => {
    const candidates = getNextTransitions(previous).filter((t) => t.eventType === (i === 0 ? 'OBSERVE' : ''));
    const enabled = candidates.find((t) => {
      if (t.guard === undefined) return true;
      const guard = t.guard as string | { type: string; params?: unknown };
      const type = typeof guard === 'string' ? guard : guard.type;
      const params = typeof guard === 'string' ? undefined : guard.params;
      const impl = guards[type];
      if (!impl) throw new Error(`guard ${type} has no implementation`);
      return impl({ context: previous.context, event }, params);
    });
    if (enabled) {
      const source = enabled.source.path.join('.');
      const target = enabled.target?.[0]?.path.join('.');
      const guard = enabled.guard as string | { type: string } | undefined;
      const name = guard === undefined ? '' : typeof guard === 'string' ? guard : guard.type;
      taken.push(transitionKey({ source, guard: name, ...(target ? { target } : {}) }));
    }
    previous = next as LifecycleMachineSnapshot;
  });
  return taken;
}
