// When a simulated machine becomes Ready: startupDelaySeconds after creation, one second more for the
// timestamp's whole seconds, and at once without a delay.
import { describe, expect, it } from 'vitest';
import { startupRemainingMs } from '../../../providers/inmemory/startup.js';

const created = '2026-12-02T10:00:00Z';
const at = (iso: string) => new Date(iso);

describe('startupRemainingMs', () => {
  it('is 0 without a delay, whenever the machine was made', () => {
    expect(startupRemainingMs(created, 0, at('2026-12-02T10:00:00Z'))).toBe(0);
    expect(startupRemainingMs(undefined, 0, at('2026-12-02T10:00:00Z'))).toBe(0);
  });

  it('counts the delay plus one second from the creation timestamp', () => {
    expect(startupRemainingMs(created, 10, at('2026-12-02T10:00:00Z'))).toBe(11_000);
    expect(startupRemainingMs(created, 10, at('2026-12-02T10:00:04.500Z'))).toBe(6_500);
    expect(startupRemainingMs(created, 10, at('2026-12-02T10:00:10.999Z'))).toBe(1);
  });

  it('is 0 from the moment the delay (and its second) has passed, and after', () => {
    expect(startupRemainingMs(created, 10, at('2026-12-02T10:00:11Z'))).toBe(0);
    expect(startupRemainingMs(created, 10, at('2026-12-02T11:00:00Z'))).toBe(0);
  });

  it('never reports Ready before the delay has truly passed, for a machine made late in its second', () => {
    // Truly made at 10:00:00.900, stored as 10:00:00: 10 s later is 10:00:10.900.
    expect(startupRemainingMs(created, 10, at('2026-12-02T10:00:10.900Z'))).toBeGreaterThan(0);
  });

  it('counts from now when the object has no timestamp yet', () => {
    expect(startupRemainingMs(undefined, 5, at('2026-12-02T10:00:00Z'))).toBe(6_000);
    expect(startupRemainingMs('not a date', 5, at('2026-12-02T10:00:00Z'))).toBe(6_000);
  });
});
