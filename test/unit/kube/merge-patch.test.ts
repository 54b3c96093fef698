import { describe, expect, it } from 'vitest';
import { jsonEqual, mergePatchOf } from '../../../src/kube/merge-patch.js';

describe('mergePatchOf', () => {
  it('makes no patch when only the order of keys differs, as in conditions read back from the server', () => {
    const cached = {
      conditions: [
        {
          lastTransitionTime: '2026-12-02T08:00:00Z',
          message: '',
          reason: 'Ready',
          status: 'True',
          type: 'Ready',
        },
      ],
      phase: 'Ready',
    };
    const computed = {
      phase: 'Ready',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Ready',
          message: '',
          lastTransitionTime: '2026-12-02T08:00:00Z',
        },
      ],
    };
    expect(mergePatchOf(cached, computed)).toBeUndefined();
  });

  it('treats a key whose value is undefined as absent', () => {
    expect(mergePatchOf({ a: 1 }, { a: 1, b: undefined })).toBeUndefined();
    expect(mergePatchOf({ a: 1, b: undefined }, { a: 1 })).toBeUndefined();
  });

  it('replaces an array whole when one element changed, and nulls removed keys', () => {
    const before = { conditions: [{ type: 'Ready', status: 'False' }], old: 'x' };
    const after = { conditions: [{ type: 'Ready', status: 'True' }] };
    expect(mergePatchOf(before, after)).toEqual({
      conditions: [{ type: 'Ready', status: 'True' }],
      old: null,
    });
  });

  it('patches only the nested fields that changed', () => {
    expect(mergePatchOf({ a: { b: 1, c: 2 } }, { a: { b: 1, c: 3 } })).toEqual({ a: { c: 3 } });
  });
});

describe('jsonEqual', () => {
  it('is order-sensitive for arrays and not for object keys', () => {
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ x: [1, { a: 1, b: 2 }] }, { x: [1, { b: 2, a: 1 }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: '1' })).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
  });
});
