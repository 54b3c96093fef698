import { describe, expect, it } from 'vitest';
import { isNewer } from '../../../src/runtime/resource-version.js';

describe('isNewer', () => {
  it('compares whole-number versions as numbers, not strings', () => {
    expect(isNewer('10', '9')).toBe(true);
    expect(isNewer('9', '10')).toBe(false);
    expect(isNewer('7', '7')).toBe(false);
    expect(isNewer('18446744073709551615', '18446744073709551614')).toBe(true);
  });
  it('calls nothing newer or older when a version is missing or not a number', () => {
    expect(isNewer(undefined, '1')).toBeUndefined();
    expect(isNewer('1', '')).toBeUndefined();
    expect(isNewer('abc', '1')).toBeUndefined();
    expect(isNewer('1', '1.5')).toBeUndefined();
  });
});
