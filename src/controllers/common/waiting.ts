// A reconcile that cannot go on yet: say why in Ready and look again shortly.
import type { Condition } from '../../api/v1alpha1/meta.js';
import type { Resource } from '../../kube/resources.js';
import type { ControllerDeps, Result } from '../deps.js';
import { notReady } from './conditions.js';

interface Waiting {
  metadata: { name?: string; namespace?: string; generation?: number };
  status?: { conditions?: Condition[] };
}

export async function waitFor<T extends Waiting>(
  deps: ControllerDeps,
  resource: Resource,
  obj: T,
  reason: string,
  message: string,
): Promise<Result> {
  await deps.writer.writeStatus(resource, obj, { ...obj.status, conditions: notReady(obj, reason, message) });
  return { requeueAfterMs: 5_000 };
}
