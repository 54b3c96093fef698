// Repeated identical failures, logged once and then at most once per interval. With the API server down,
// every informer and every reconcile fails the same way every few hundred milliseconds; one line that says
// so, and then one every 30 s with the count of the ones left out, is what a reader can use.
import type { Logger } from 'pino';
import { connectionErrorCode } from './errors.js';

export const DEFAULT_FAILURE_LOG_INTERVAL_MS = 30_000;

export interface FailureLogOptions {
  /** At most one line per identical failure in this long. Default 30 s. */
  intervalMs?: number;
  /** The clock (ms); tests pass a fake one. */
  now?: () => number;
}

/** A line's fields: the error under `err`, and what else the line says. */
export type FailureFields = { err: unknown } & Record<string, unknown>;

interface Seen {
  /** What the failure is about (an object key), or '' for the component as a whole. */
  about: string;
  loggedAt: number;
  lastAt: number;
  /** Left out since the last line. */
  suppressed: number;
  /** All of them, since the last recovery. */
  total: number;
}

/**
 * Type, code and message: what makes two failures "the same". A connection error is its code alone: a
 * dropped watch says `aborted`, the reconnects after it `socket hang up`, and both are one ECONNRESET.
 */
function signature(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const connection = connectionErrorCode(err);
  if (connection) return connection;
  const code = (err as { code?: unknown }).code;
  return `${err.name}\u0000${code ?? ''}\u0000${err.message}`;
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.round(ms / 1000))} s`;
}

/** One logger's failures, rate-limited by (about, message, error type, code and message). */
export class FailureLog {
  private readonly seen = new Map<string, Seen>();
  private readonly intervalMs: number;
  private readonly now: () => number;
  private prunedAt: number;

  constructor(
    private readonly log: Logger,
    opts: FailureLogOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_FAILURE_LOG_INTERVAL_MS;
    this.now = opts.now ?? (() => Date.now());
    this.prunedAt = this.now();
  }

  /**
   * Logs `msg` at warn with `fields` (which hold `err`) unless the same failure was logged less than an interval ago;
   * the next line after such a gap says how many were left out (`suppressed`). Returns whether it logged.
   */
  warn(fields: FailureFields, msg: string, about = ''): boolean {
    return this.failure('warn', fields, msg, about);
  }

  /** As warn(), at error: a failure that is not retried, or a bug. */
  error(fields: FailureFields, msg: string, about = ''): boolean {
    return this.failure('error', fields, msg, about);
  }

  private failure(level: 'warn' | 'error', fields: FailureFields, msg: string, about: string): boolean {
    const now = this.now();
    this.prune(now);
    const id = `${about}\u0000${msg}\u0000${signature(fields.err)}`;
    const seen = this.seen.get(id);
    if (seen && now - seen.loggedAt < this.intervalMs) {
      seen.suppressed++;
      seen.total++;
      seen.lastAt = now;
      return false;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.seen.set(id, { about, loggedAt: now, lastAt: now, suppressed: 0, total: (seen?.total ?? 0) + 1 });
    if (seen && suppressed > 0) {
      const text = `${msg} (${suppressed} more like this in ${seconds(now - seen.loggedAt)})`;
      this.log[level]({ ...fields, suppressed }, text);
    } else this.log[level](fields, msg);
    return true;
  }

  /**
   * The thing works again: forgets the failures about `about` and those of the component as a whole, and
   * logs `msg` at info with their count (`failures`) when there were any.
   */
  recovered(msg: string, fields: Record<string, unknown> = {}, about = ''): void {
    if (this.seen.size === 0) return;
    let failures = 0;
    for (const [id, seen] of this.seen) {
      if (seen.about !== about && seen.about !== '') continue;
      failures += seen.total;
      this.seen.delete(id);
    }
    if (failures > 0) this.log.info({ ...fields, failures }, msg);
  }

  /** Forgets failures not seen for ten intervals (an object deleted while failing), so the map stays small. */
  private prune(now: number): void {
    if (now - this.prunedAt < this.intervalMs) return;
    this.prunedAt = now;
    for (const [id, seen] of this.seen) if (now - seen.lastAt > 10 * this.intervalMs) this.seen.delete(id);
  }
}
