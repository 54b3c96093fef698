// The drain step of a Machine's deletion: skipped, begun, gone on with, or given up at the Machine's
// nodeDrainTimeout. Its DrainingSucceeded condition tells `kubectl describe machine` why it waits.
import type { Logger } from 'pino';
import type { Cluster, Machine } from '../../api/v1alpha1/index.js';
import { resources } from '../../kube/resources.js';
import type { InfrastructureProvider, MachineContext } from '../../provider/contract.js';
import { type ConditionInput, getCondition, setCondition } from '../common/conditions.js';
import type { ControllerDeps, Result } from '../deps.js';
import { drainRound } from './drain.js';
import { DRAINED, drainFinished, drainSkipReason, drainTimedOut, timedOutCondition } from './drain-plan.js';

const DRAIN_POLL_MS = 3_000;

/** Undefined when the Machine's infrastructure may go now; otherwise when to look again. */
export async function drainBeforeDelete(
  deps: ControllerDeps,
  provider: InfrastructureProvider,
  ctx: MachineContext & { cluster: Cluster },
  log: Logger,
): Promise<Result | undefined> {
  const { machine, cluster } = ctx;
  if (drainFinished(machine)) return undefined;
  const skip = drainSkipReason(machine, cluster, provider.servesWorkloadAPI);
  let condition: ConditionInput;
  let done: boolean;
  // Said on the Machine only when its own choice: a whole cluster going, or one that serves no API
  // (inmemory), would get one more write and Event per machine for nothing.
  if (skip !== undefined && (cluster.metadata.deletionTimestamp || !provider.servesWorkloadAPI))
    return undefined;
  if (skip !== undefined) {
    condition = { type: DRAINED, status: 'True', reason: 'DrainSkipped', message: `not drained: ${skip}` };
    done = true;
  } else {
    ({ condition, done } = await drainRound(provider, ctx, machine.status!.nodeRef!.name));
    if (!done && drainTimedOut(machine)) {
      condition = timedOutCondition(machine, condition.message ?? '');
      done = true;
    }
  }
  record(deps, machine, condition, log);
  await deps.writer.writeStatusIfUnchanged(resources.Machine, machine, {
    ...machine.status,
    phase: 'Deleting',
    conditions: setCondition(machine.status?.conditions, condition, machine.metadata.generation),
  });
  return done ? undefined : { requeueAfterMs: DRAIN_POLL_MS };
}

/** An Event and a log line when the drain changes course, not on every poll. */
function record(deps: ControllerDeps, machine: Machine, c: ConditionInput, log: Logger): void {
  const previous = getCondition(machine.status?.conditions, DRAINED);
  if (previous?.reason === c.reason) return;
  const message = c.message ?? '';
  if (c.reason === 'Drained' || c.reason === 'Draining' || c.reason === 'DrainSkipped') {
    log.info({ reason: c.reason, detail: message }, 'node drain');
    deps.events.normal(machine, c.reason, message);
  } else {
    log.warn({ reason: c.reason, detail: message }, 'node drain');
    deps.events.warning(machine, c.reason, message);
  }
}
