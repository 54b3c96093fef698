// The two conditions kstatus reads on any kind (sigs.k8s.io/cli-utils, behind Flux's health checks):
// Reconciling=True is InProgress, Stalled=True is Failed, and with neither an object whose
// status.observedGeneration is its generation is Current, whatever Ready says. So an object still on
// its way says Reconciling, one that only a person can move on says Stalled, a settled one neither.
import type { Condition } from '../../api/v1alpha1/meta.js';
import { setCondition } from './conditions.js';

export type Health =
  /** Getting somewhere by itself: provisioning, upgrading, scaling. */
  | { state: 'progressing'; reason: string; message: string }
  /** Stuck until a person changes something: the message says what. */
  | { state: 'stalled'; reason: string; message: string }
  /** Nothing under way: Ready, or paused on purpose. */
  | { state: 'settled'; reason: string };

const CONDITION_OF = { progressing: 'Reconciling', stalled: 'Stalled' } as const;

/** `list` with Reconciling and Stalled set for `health`, both always present (True or False). */
export function withHealth(list: Condition[] | undefined, health: Health, generation?: number): Condition[] {
  let out = list;
  for (const [state, type] of Object.entries(CONDITION_OF)) {
    const on = health.state === state;
    const message = on && health.state !== 'settled' ? health.message : '';
    out = setCondition(
      out,
      { type, status: on ? 'True' : 'False', reason: health.reason, message },
      generation,
    );
  }
  return out ?? [];
}
