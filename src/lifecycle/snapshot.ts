// The lifecycle snapshot kept in `status.lifecycle`: small, versioned, and trusted only when it reads back
// cleanly. Anything missing, unreadable or written by another version of the machine is rebuilt from the
// world (deriveState); history is never replayed.
import { type SnapshotFrom, type StateValue, transition } from 'xstate';
import type { ClusterPhase, LifecycleSnapshot } from '../api/v1alpha1/cluster.js';
import { deriveState } from './derive.js';
import { clusterLifecycle, LIFECYCLE_SCHEMA_VERSION, type LifecycleContext } from './machine.js';
import type { Observation } from './observation.js';
import { isLifecycleState, type LifecycleState } from './states.js';
import { phaseFor, type Task, tasksFor } from './tasks.js';

export type LifecycleMachineSnapshot = SnapshotFrom<typeof clusterLifecycle>;

/** The persisted form, as in `status.lifecycle`, with the context always present. */
export interface PersistedLifecycle extends LifecycleSnapshot {
  schemaVersion: number;
  state: LifecycleState;
  context: Record<string, unknown>;
}

export interface StepResult {
  /** The machine's snapshot after this observation. */
  snapshot: LifecycleMachineSnapshot;
  /** What to write to `status.lifecycle`. */
  persisted: PersistedLifecycle;
  /** The state after this observation, as a dotted path. */
  state: LifecycleState;
  phase: ClusterPhase;
  /** What the reconciler must do now, in order. */
  tasks: Task[];
  /** Whether `persisted` differs from what was passed in (status needs writing). */
  changed: boolean;
}

/**
 * The machine snapshot to step from. `persisted` is whatever `status.lifecycle` holds: it is used when its
 * schemaVersion is this machine's and its state and context read back; otherwise the snapshot is rebuilt
 * from the world. A persisted final state is trusted only while the world still agrees with it.
 */
export function restore(persisted: unknown, world: Observation): LifecycleMachineSnapshot {
  const read = readPersisted(persisted);
  if (read) {
    const snapshot = resolve(read.state, read.context);
    if (snapshot.status === 'active' || deriveState(world) === read.state) return snapshot;
  }
  return rebuild(world);
}

/** The snapshot a fresh observer would build from the world alone. */
export function rebuild(world: Observation): LifecycleMachineSnapshot {
  const state = deriveState(world);
  const context: LifecycleContext = {};
  if (state === 'failed' && world.failure) {
    const { reason, message, generation } = world.failure;
    context.failure = { reason, message, generation };
  }
  return resolve(state, context);
}

export function persist(snapshot: LifecycleMachineSnapshot): PersistedLifecycle {
  const state = statePath(snapshot.value);
  if (!isLifecycleState(state)) throw new Error(`the lifecycle machine is not at rest (in ${state})`);
  return { schemaVersion: LIFECYCLE_SCHEMA_VERSION, state, context: plainContext(snapshot.context) };
}

/** One reconcile's decision: restore, send the observation, and say what to do. */
export function step(persisted: unknown, world: Observation): StepResult {
  const [snapshot] = transition(clusterLifecycle, restore(persisted, world), { type: 'OBSERVE', world });
  const out = persist(snapshot);
  const before = readPersisted(persisted);
  const changed =
    before === undefined ||
    before.state !== out.state ||
    canonical(before.context) !== canonical(out.context);
  return {
    snapshot,
    persisted: out,
    state: out.state,
    phase: phaseFor(out.state),
    tasks: tasksFor(out.state),
    changed,
  };
}

function resolve(state: LifecycleState, context: LifecycleContext): LifecycleMachineSnapshot {
  return clusterLifecycle.resolveState({ value: stateValue(state), context });
}

function stateValue(path: string): StateValue {
  const [head, ...rest] = path.split('.');
  return rest.length === 0 ? (head ?? '') : { [head ?? '']: stateValue(rest.join('.')) };
}

function statePath(value: StateValue): string {
  if (typeof value === 'string') return value;
  const entries = Object.entries(value).filter(([, child]) => child !== undefined);
  const [first] = entries;
  if (entries.length !== 1 || !first)
    throw new Error(`not a single lifecycle state: ${JSON.stringify(value)}`);
  return `${first[0]}.${statePath(first[1] as StateValue)}`;
}

interface ReadBack {
  state: LifecycleState;
  context: LifecycleContext;
}

/** The persisted snapshot, if it is this version's and every part of it reads back; otherwise undefined. */
function readPersisted(persisted: unknown): ReadBack | undefined {
  if (!isRecord(persisted)) return undefined;
  if (persisted.schemaVersion !== LIFECYCLE_SCHEMA_VERSION) return undefined;
  if (!isLifecycleState(persisted.state)) return undefined;
  const context = readContext(persisted.context ?? {});
  return context ? { state: persisted.state, context } : undefined;
}

function readContext(raw: unknown): LifecycleContext | undefined {
  if (!isRecord(raw)) return undefined;
  const context: LifecycleContext = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    if (key === 'pausedFrom' && isLifecycleState(value) && value !== 'paused') {
      context.pausedFrom = value;
    } else if (key === 'failure' && isRecord(value)) {
      const { reason, message, generation } = value;
      if (typeof reason !== 'string' || typeof message !== 'string' || !Number.isInteger(generation))
        return undefined;
      context.failure = { reason, message, generation: generation as number };
    } else {
      return undefined;
    }
  }
  return context;
}

function plainContext(context: LifecycleContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (context.failure) {
    const { reason, message, generation } = context.failure;
    out.failure = { reason, message, generation };
  }
  if (context.pausedFrom) out.pausedFrom = context.pausedFrom;
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function canonical(context: LifecycleContext): string {
  return JSON.stringify(plainContext(context));
}
