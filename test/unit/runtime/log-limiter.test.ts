// Repeated identical failures: one line, then at most one per interval with the count of those left out.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError } from '../../../src/runtime/errors.js';
import { createLogger } from '../../../src/runtime/log.js';
import { FailureLog } from '../../../src/runtime/log-limiter.js';

interface Line {
  level: string;
  msg: string;
  err?: { message: string; code?: string };
  suppressed?: number;
  failures?: number;
  [key: string]: unknown;
}

function setup(): { lines: Line[]; failures: FailureLog } {
  const lines: Line[] = [];
  const log = createLogger({ destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { lines, failures: new FailureLog(log.child({ informer: 'configmaps' }), { intervalMs: 30_000 }) };
}

const refused = (): Error =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });

describe('FailureLog', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a failure once, then once per interval with the count of the ones left out', () => {
    const { lines, failures } = setup();
    expect(failures.warn({ err: refused(), retryInMs: 250 }, 'watch failed; reconnecting')).toBe(true);
    for (let i = 0; i < 12; i++) {
      vi.advanceTimersByTime(2_000);
      expect(failures.warn({ err: refused(), retryInMs: 800 }, 'watch failed; reconnecting')).toBe(false);
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: 'watch failed; reconnecting',
      informer: 'configmaps',
    });
    expect(lines[0]?.err).toMatchObject({ code: 'ECONNREFUSED' });

    vi.advanceTimersByTime(6_000); // 30 s after the first line
    failures.warn({ err: refused(), retryInMs: 1000 }, 'watch failed; reconnecting');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: 'warn',
      msg: 'watch failed; reconnecting (12 more like this in 30 s)',
      suppressed: 12,
      retryInMs: 1000,
    });
    expect(lines[1]?.err).toMatchObject({ code: 'ECONNREFUSED' });

    // Once an interval passed with no repeat, the next one is a plain line again.
    vi.advanceTimersByTime(31_000);
    failures.warn({ err: refused() }, 'watch failed; reconnecting');
    expect(lines[2]).toMatchObject({ msg: 'watch failed; reconnecting' });
    expect(lines[2]).not.toHaveProperty('suppressed');
  });

  it('tells different failures apart: by message, by error code and message, and by what they are about', () => {
    const { lines, failures } = setup();
    failures.warn({ err: refused() }, 'watch failed; reconnecting');
    failures.warn({ err: refused() }, 'list failed; retrying');
    // The same code with another message (another address, `socket hang up` after `aborted`) is the same failure.
    failures.warn(
      { err: Object.assign(new Error('connect ECONNREFUSED [::1]:6443'), { code: 'ECONNREFUSED' }) },
      'list failed; retrying',
    );
    failures.warn(
      { err: new KubeApiError(503, 'watch', '/api/v1/configmaps', 'unavailable') },
      'watch failed; reconnecting',
    );
    failures.warn(
      { err: new KubeApiError(500, 'watch', '/api/v1/configmaps', 'unavailable') },
      'watch failed; reconnecting',
    );
    failures.error({ err: new Error('spec is invalid') }, 'reconcile failed', 'ns/a');
    failures.error({ err: new Error('spec is invalid') }, 'reconcile failed', 'ns/b');
    failures.error({ err: new Error('spec is invalid') }, 'reconcile failed', 'ns/a');
    expect(lines.map((line) => [line.level, line.msg, line.err?.message])).toEqual([
      ['warn', 'watch failed; reconnecting', 'connect ECONNREFUSED 127.0.0.1:6443'],
      ['warn', 'list failed; retrying', 'connect ECONNREFUSED 127.0.0.1:6443'],
      ['warn', 'watch failed; reconnecting', 'watch /api/v1/configmaps: 503: unavailable'],
      ['warn', 'watch failed; reconnecting', 'watch /api/v1/configmaps: 500: unavailable'],
      ['error', 'reconcile failed', 'spec is invalid'],
      ['error', 'reconcile failed', 'spec is invalid'],
    ]);
  });

  it('says once when it works again, with how many failures there were, and then logs a new failure at once', () => {
    const { lines, failures } = setup();
    failures.recovered('watching again after failures');
    expect(lines).toHaveLength(0);
    for (let i = 0; i < 5; i++) failures.warn({ err: refused() }, 'watch failed; reconnecting');
    failures.recovered('watching again after failures');
    failures.recovered('watching again after failures');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 'info', msg: 'watching again after failures', failures: 5 });
    failures.warn({ err: refused() }, 'watch failed; reconnecting');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ level: 'warn', msg: 'watch failed; reconnecting' });
  });

  it('recovers one object without forgetting the failures of another', () => {
    const { lines, failures } = setup();
    failures.warn({ err: new Error('machine not ready') }, 'reconcile failed', 'ns/a');
    failures.warn({ err: new Error('machine not ready') }, 'reconcile failed', 'ns/b');
    failures.recovered('reconciled after failures', { name: 'a' }, 'ns/a');
    expect(lines[2]).toMatchObject({ msg: 'reconciled after failures', name: 'a', failures: 1 });
    failures.warn({ err: new Error('machine not ready') }, 'reconcile failed', 'ns/b');
    expect(lines).toHaveLength(3);
  });
});
