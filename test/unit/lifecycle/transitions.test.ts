// Every transition and guard of the machine, by a table. The list of transitions comes from the machine
// definition: a transition no row takes fails the coverage test, and so does a row that names a state the
// machine does not reach.
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { machineTransitions } from '../../../src/lifecycle/introspect.js';
import { clusterLifecycle } from '../../../src/lifecycle/machine.js';
import type { Observation } from '../../../src/lifecycle/observation.js';
import { persist } from '../../../src/lifecycle/snapshot.js';
import type { LifecycleState } from '../../../src/lifecycle/states.js';
import { at, FAILURE, OLD, takenTransitions, W, world } from './worlds.js';

interface Row {
  why: string;
  from: LifecycleState;
  context?: Record<string, unknown>;
  world: Observation;
  to: LifecycleState;
  /** The context after the step, when it matters. */
  expectContext?: Record<string, unknown>;
}

const pauseFrom = (from: LifecycleState): Row => ({
  why: 'pause wins over everything',
  from,
  world: W.paused,
  to: 'paused',
  expectContext: { pausedFrom: from },
});

const rows: Row[] = [
  // Provisioning, in order.
  {
    why: 'infrastructure appears',
    from: 'pending',
    world: W.infrastructureProvisioning,
    to: 'provisioningInfrastructure',
  },
  {
    why: 'infrastructure ready',
    from: 'provisioningInfrastructure',
    world: W.controlPlaneProvisioning,
    to: 'provisioningControlPlane',
  },
  {
    why: 'control plane up, workers booting',
    from: 'provisioningControlPlane',
    world: W.workersBooting,
    to: 'provisioningWorkers',
  },
  {
    why: 'control plane up, worker machines being created',
    from: 'provisioningControlPlane',
    world: W.firstWorkersCreated,
    to: 'scaling',
  },
  { why: 'workers ready', from: 'provisioningWorkers', world: W.ready, to: 'ready' },
  // Upgrade: control plane first, then workers.
  {
    why: 'a new version is desired',
    from: 'ready',
    world: W.controlPlaneUpgrade,
    to: 'upgrading.controlPlane',
  },
  {
    why: 'the control plane runs the new version',
    from: 'upgrading.controlPlane',
    world: W.workersUpgrade,
    to: 'upgrading.workers',
  },
  { why: 'every worker runs the new version', from: 'upgrading.workers', world: W.ready, to: 'ready' },
  // Scaling.
  { why: 'replica counts differ', from: 'ready', world: W.replicasDiffer, to: 'scaling' },
  { why: 'machines created, booting', from: 'scaling', world: W.workersBooting, to: 'provisioningWorkers' },
  { why: 'counts met and ready', from: 'scaling', world: W.ready, to: 'ready' },
  // Deletion, in order.
  { why: 'workers gone', from: 'deleting.workers', world: W.workersGone, to: 'deleting.controlPlane' },
  {
    why: 'control plane gone',
    from: 'deleting.controlPlane',
    world: W.controlPlaneGone,
    to: 'deleting.infrastructure',
  },
  { why: 'infrastructure gone', from: 'deleting.infrastructure', world: W.allGone, to: 'deleting.finalizer' },
  { why: 'finalizer released', from: 'deleting.finalizer', world: W.finalizerRemoved, to: 'deleted' },
  // Failed keeps the latest report of a current failure.
  {
    why: 'the failure is reported again, reworded',
    from: 'failed',
    context: { failure: { ...FAILURE, message: 'old words' } },
    world: W.failed,
    to: 'failed',
    expectContext: { failure: FAILURE },
  },
  // Pause, from every state that can move.
  pauseFrom('pending'),
  pauseFrom('provisioningInfrastructure'),
  pauseFrom('provisioningControlPlane'),
  pauseFrom('provisioningWorkers'),
  pauseFrom('ready'),
  pauseFrom('upgrading.controlPlane'),
  pauseFrom('upgrading.workers'),
  pauseFrom('scaling'),
  pauseFrom('deleting.workers'),
  pauseFrom('deleting.controlPlane'),
  pauseFrom('deleting.infrastructure'),
  pauseFrom('deleting.finalizer'),
  { ...pauseFrom('failed'), context: { failure: FAILURE }, expectContext: { pausedFrom: 'failed' } },
  // The world moved somewhere no expected move goes: re-derive (worldMoved, then one branch of the choice).
  { why: 'deleted before anything was made', from: 'pending', world: W.deleting, to: 'deleting.workers' },
  {
    why: 'the infrastructure object vanished',
    from: 'provisioningInfrastructure',
    world: W.nothing,
    to: 'pending',
  },
  {
    why: 'a provider call failed',
    from: 'provisioningControlPlane',
    world: W.failed,
    to: 'failed',
    expectContext: { failure: FAILURE },
  },
  {
    why: 'version bumped while provisioning',
    from: 'provisioningWorkers',
    world: W.controlPlaneUpgrade,
    to: 'upgrading.controlPlane',
  },
  {
    why: 'only the pools want a new version',
    from: 'ready',
    world: W.workersUpgrade,
    to: 'upgrading.workers',
  },
  { why: 'workers were already at the version', from: 'upgrading.controlPlane', world: W.ready, to: 'ready' },
  {
    why: 'a pool was resized during its upgrade',
    from: 'upgrading.workers',
    world: W.replicasDiffer,
    to: 'scaling',
  },
  {
    why: 'the load balancer was lost',
    from: 'scaling',
    world: W.infrastructureLost,
    to: 'provisioningInfrastructure',
  },
  {
    why: 'workers and control plane went at once',
    from: 'deleting.workers',
    world: W.controlPlaneGone,
    to: 'deleting.infrastructure',
  },
  {
    why: 'everything went at once',
    from: 'deleting.controlPlane',
    world: W.allGone,
    to: 'deleting.finalizer',
  },
  {
    why: 'the finalizer went with the infrastructure',
    from: 'deleting.infrastructure',
    world: W.finalizerRemoved,
    to: 'deleted',
  },
  {
    why: 'a worker came back: delete it first',
    from: 'deleting.finalizer',
    world: W.deleting,
    to: 'deleting.workers',
  },
  {
    why: 'the failure is gone and a control plane member is down',
    from: 'failed',
    context: { failure: FAILURE },
    world: W.controlPlaneNotReady,
    to: 'provisioningControlPlane',
    expectContext: {},
  },
  {
    why: 'unpaused while workers boot',
    from: 'paused',
    context: { pausedFrom: 'ready' },
    world: W.workersBooting,
    to: 'provisioningWorkers',
    expectContext: {},
  },
  {
    why: 'deleted after the workers were gone',
    from: 'ready',
    world: W.workersGone,
    to: 'deleting.controlPlane',
  },
  // The precedence rules.
  { why: 'paused beats deletion (Cluster API)', from: 'paused', world: W.pausedWhileDeleting, to: 'paused' },
  {
    why: 'deletion beats failure',
    from: 'failed',
    context: { failure: FAILURE },
    world: W.deletingAndFailed,
    to: 'deleting.workers',
  },
  {
    why: 'deletion beats failure while deleting',
    from: 'deleting.workers',
    world: W.deletingAndFailed,
    to: 'deleting.workers',
  },
  {
    why: 'a spec change makes the failure stale',
    from: 'failed',
    context: { failure: FAILURE },
    world: W.staleFailure,
    to: 'ready',
    expectContext: {},
  },
  { why: 'a stale failure does not fail a cluster', from: 'ready', world: W.staleFailure, to: 'ready' },
  {
    why: 'version change beats replica counts',
    from: 'ready',
    world: world({ controlPlaneVersion: OLD, replicasMatch: false }),
    to: 'upgrading.controlPlane',
  },
  // No move when the world agrees.
  { why: 'ready stays ready', from: 'ready', world: W.ready, to: 'ready' },
  {
    why: 'paused stays paused',
    from: 'paused',
    context: { pausedFrom: 'ready' },
    world: W.paused,
    to: 'paused',
    expectContext: { pausedFrom: 'ready' },
  },
  { why: 'deleted is final', from: 'deleted', world: W.finalizerRemoved, to: 'deleted' },
];

/** The keys of the transitions the table's rows take. */
function covered(): Set<string> {
  return new Set(
    rows.flatMap((row) => takenTransitions(at(row.from, row.context ?? {}, row.world), row.world)),
  );
}

describe('every transition of the lifecycle machine', () => {
  it.each(rows)('$from -> $to: $why', (row) => {
    const before = at(row.from, row.context ?? {}, row.world);
    expect(persist(before).state).toBe(row.from);
    const [after] = transition(clusterLifecycle, before, { type: 'OBSERVE', world: row.world });
    const persisted = persist(after);
    expect(persisted.state).toBe(row.to);
    if (row.expectContext) expect(persisted.context).toEqual(row.expectContext);
  });

  it('the table takes every transition the machine defines', () => {
    const taken = covered();
    const defined = machineTransitions().map((t) => t.key);
    expect(new Set(defined).size).toBe(defined.length);
    const missing = defined.filter((key) => !taken.has(key));
    expect(missing, 'transitions with no row in the table').toEqual([]);
    const unknown = [...taken].filter((key) => !defined.includes(key));
    expect(unknown, 'taken transitions the definition does not list').toEqual([]);
  });

  it('the table uses every guard the machine implements', () => {
    const implemented = Object.keys(clusterLifecycle.implementations.guards);
    const used = new Set(machineTransitions().map((t) => t.guard));
    expect(implemented.filter((g) => !used.has(g))).toEqual([]);
    const guardsTaken = new Set([...covered()].map((key) => key.split(' --')[1]?.split('--> ')[0]));
    expect(implemented.filter((g) => !guardsTaken.has(g))).toEqual([]);
  });
});
