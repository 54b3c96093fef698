// --request-timeout takes what kubectl's takes: 0 for no limit, a bare number of seconds, or a duration.
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseRequestTimeout } from '../../../src/cli/common.js';

describe('parseRequestTimeout', () => {
  it.each([
    ['0', 0],
    ['0s', 0],
    ['5', 5_000],
    ['5s', 5_000],
    ['1500ms', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseRequestTimeout(text)).toBe(ms);
  });

  it.each(['abc', '-1s', '5 minutes', ''])('refuses %j', (text) => {
    expect(() => parseRequestTimeout(text)).toThrow(InvalidArgumentError);
  });
});
