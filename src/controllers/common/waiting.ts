// A reconcile that cannot go on: say why in Ready, and either look again shortly (waitFor: the
// missing piece may come by itself) or mark the object Stalled (stall: only a person can fix it).
import type { Condition } from '../../api/v1alpha1/meta.js';
import type { Resource } from '../../kube/resources.js';
import { type ControllerDeps, jittered, RESYNC_MS, type Result } from '../deps.js';
import { notReady } from './conditions.js';
import { withHealth } from './health.js';

interface Waiting {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; namespace?: string; uid?: string; generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** What a reconcile that cannot go on writes: Ready=False with `reason` and `message`, and then some. */
type Report = (
  deps: ControllerDeps,
  resource: Resource,
  obj: Waiting,
  reason: string,
  message: string,
) => Promise<Result>;

export const waitFor: Report = async (deps, resource, obj, reason, message) => {
  await deps.writer.writeStatus(resource, obj, { ...obj.status, conditions: notReady(obj, reason, message) });
  return { requeueAfterMs: 5_000 };
};

/**
 * Ready=False and Stalled=True (Reconciling=False), with `reason` and `message` (the fix), the
 * generation marked observed, and a Warning event:
 * kstatus (Flux, kubectl wait) reads the object as Failed at once instead of in progress for ever.
 * Nothing changes until the object does, so the next look is at the resync.
 */
export const stall: Report = async (deps, resource, obj, reason, message) => {
  const generation = obj.metadata.generation;
  const conditions = withHealth(
    notReady(obj, reason, message),
    { state: 'stalled', reason, message },
    generation,
  );
  // This generation is observed: kstatus reads conditions only once observedGeneration is current.
  const observedGeneration = generation ?? obj.status?.observedGeneration;
  await deps.writer.writeStatus(resource, obj, { ...obj.status, conditions, observedGeneration });
  deps.events.warning(obj, reason, message);
  return { requeueAfterMs: jittered(RESYNC_MS) };
};
