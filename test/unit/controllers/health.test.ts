// Reconciling and Stalled, the two conditions kstatus reads: exactly one True while on the way or
// stuck, both False once settled, the other conditions left as they were.
import { describe, expect, it } from 'vitest';
import { withHealth } from '../../../src/controllers/common/health.js';

const pick = (list: { type: string; status: string; reason?: string; message?: string }[]) =>
  Object.fromEntries(list.map((c) => [c.type, [c.status, c.reason, c.message]]));

describe('withHealth', () => {
  it('says Reconciling while on the way, Stalled when stuck, neither when settled', () => {
    expect(pick(withHealth([], { state: 'progressing', reason: 'Provisioning', message: 'm' }, 1))).toEqual({
      Reconciling: ['True', 'Provisioning', 'm'],
      Stalled: ['False', 'Provisioning', ''],
    });
    expect(pick(withHealth([], { state: 'stalled', reason: 'BinariesNotFound', message: 'fix' }, 1))).toEqual(
      {
        Reconciling: ['False', 'BinariesNotFound', ''],
        Stalled: ['True', 'BinariesNotFound', 'fix'],
      },
    );
    expect(pick(withHealth([], { state: 'settled', reason: 'Ready' }, 1))).toEqual({
      Reconciling: ['False', 'Ready', ''],
      Stalled: ['False', 'Ready', ''],
    });
  });

  it('keeps the other conditions, and marks both with the generation', () => {
    const ready = { type: 'Ready', status: 'True' as const, reason: 'Ready', lastTransitionTime: 'x' };
    const out = withHealth([ready], { state: 'settled', reason: 'Ready' }, 3);
    expect(out[0]).toEqual(ready);
    expect(out.slice(1).map((c) => c.observedGeneration)).toEqual([3, 3]);
  });
});
