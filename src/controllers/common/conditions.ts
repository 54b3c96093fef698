// metav1.Condition handling: keep lastTransitionTime unless the status changes; summarise into Ready.
import type { Condition } from '../../api/v1alpha1/meta.js';
import type { Progress } from '../../provider/contract.js';

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message?: string;
}

/**
 * Returns the new list of conditions: `input` replaces the condition of its type, keeping the old
 * lastTransitionTime when the status did not change, so that a level-triggered reconcile does not
 * make every condition look new.
 */
export function setCondition(
  existing: Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: Date = new Date(),
): Condition[] {
  const list = existing ? [...existing] : [];
  const index = list.findIndex((c) => c.type === input.type);
  const previous = index >= 0 ? list[index] : undefined;
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message ?? '',
    lastTransitionTime:
      previous && previous.status === input.status
        ? previous.lastTransitionTime
        : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  if (index >= 0) list[index] = next;
  else list.push(next);
  return list;
}

/**
 * The usual two-way condition: True with `trueReason` when `ok`, otherwise False with the reason and
 * message that say what is missing.
 */
export function conditionOf(
  type: string,
  ok: boolean,
  trueReason: string,
  whenFalse: { reason: string; message: string },
): ConditionInput {
  return ok ? { type, status: 'True', reason: trueReason } : { type, status: 'False', ...whenFalse };
}

/** A condition that follows a provider's progress: done, still going (`inProgressReason`), or failed. */
export function conditionOfProgress(
  type: string,
  p: Progress,
  doneReason: string,
  inProgressReason: string,
): ConditionInput {
  if (p.state === 'done') return { type, status: 'True', reason: doneReason };
  return {
    type,
    status: 'False',
    reason: p.state === 'inProgress' ? (p.reason ?? inProgressReason) : p.reason,
    message: p.message,
  };
}

/** The conditions without Stalled: a reconcile that waits or goes on is no longer stuck. */
export const notStalled = (list: Condition[] | undefined): Condition[] =>
  (list ?? []).filter((c) => c.type !== 'Stalled');

/** The object's conditions with Ready=False and why (and no Stalled): what a reconcile writes while it waits. */
export function notReady(
  obj: { metadata: { generation?: number }; status?: { conditions?: Condition[] } },
  reason: string,
  message: string,
): Condition[] {
  return setCondition(
    notStalled(obj.status?.conditions),
    { type: 'Ready', status: 'False', reason, message },
    obj.metadata.generation,
  );
}

export function getCondition(list: Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

export function isTrue(list: Condition[] | undefined, type: string): boolean {
  return getCondition(list, type)?.status === 'True';
}

/**
 * The Ready summary: True when every listed condition is True; otherwise the first that is not,
 * with its reason and message, so a person sees at once what holds the object back.
 */
export function summarise(list: Condition[], types: string[]): ConditionInput {
  for (const type of types) {
    const c = getCondition(list, type);
    if (!c)
      return {
        type: 'Ready',
        status: 'Unknown',
        reason: `${type}Unknown`,
        message: `${type} is not known yet`,
      };
    if (c.status !== 'True') {
      return {
        type: 'Ready',
        status: c.status === 'False' ? 'False' : 'Unknown',
        reason: c.reason ?? `${type}NotReady`,
        message: c.message ? `${type}: ${c.message}` : `${type} is not ready`,
      };
    }
  }
  return { type: 'Ready', status: 'True', reason: 'Ready', message: '' };
}
