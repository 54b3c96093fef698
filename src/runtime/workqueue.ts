// A work queue in the spirit of client-go's: keys (`namespace/name`) are de-duplicated while they wait,
// a key is handed to at most one worker at a time (a key added while it is being processed is queued
// again when that worker calls done()), failures back off per key exponentially and overall through a
// token bucket, and a key can be added after a delay.
//
// Two priorities, as in controller-runtime's priority queue: a change someone made (a watch event) is
// `high`; a look we scheduled ourselves (a resync, a poll after a delay, a retry) and the objects of the
// first list are `low`. Workers take every high key before any low one, so with a thousand idle clusters
// queued for their resync, the one a user just edited is next, not a thousand-and-first.
//
// Everything here is synchronous bookkeeping on one event loop, so no locks are needed; the only waits
// are get() (for a key) and shutDown() (for in-flight keys to finish).

import { TokenBucket } from './token-bucket.js';

/** The longest delay a Node timer keeps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WorkQueueOptions {
  /** Per-key back-off: the first retry waits baseDelayMs, each further one twice as long. Default 200 ms. */
  baseDelayMs?: number;
  /** Upper bound of the per-key back-off. Default 5 minutes. */
  maxDelayMs?: number;
  /** Overall rate of rate-limited adds (token bucket refill, per second). Default 10. */
  qps?: number;
  /** Token bucket size: rate-limited adds that may go at once. Default 100. */
  burst?: number;
}

export interface ShutDownOptions {
  /**
   * Drop keys that are queued but not started (default true: keys are level-triggered, and whoever runs
   * next lists everything again). With false, workers keep taking queued keys until none is left.
   * Keys waiting for a delay (addAfter, back-off) are always dropped.
   */
  dropQueued?: boolean;
}

/** The per-key exponential back-off of client-go's ItemExponentialFailureRateLimiter. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    readonly baseDelayMs: number,
    readonly maxDelayMs: number,
  ) {}

  /** Counts a failure of `key` and returns how long to wait before its next attempt. */
  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2 ** n overflows to Infinity long after it passes any sane maximum; Math.min keeps it finite.
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
  }

  count(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

type Waiter = (key: string | undefined) => void;

export type Priority = 'high' | 'low';

const rank = (p: Priority): number => (p === 'high' ? 1 : 0);
const higher = (a: Priority | undefined, b: Priority): Priority =>
  a !== undefined && rank(a) >= rank(b) ? a : b;

export class WorkQueue {
  /**
   * Keys ready to be handed out, in order, one list per priority. A key promoted from low to high leaves a
   * stale entry in `low`; an entry counts only while `queued` says the key waits in that lane.
   */
  private readonly lanes: Record<Priority, string[]> = { high: [], low: [] };
  /** Keys ready to be handed out, with the lane each waits in. */
  private readonly queued = new Map<string, Priority>();
  /** Keys that need processing (queued, or added again while being processed), at the highest priority asked. */
  private readonly dirty = new Map<string, Priority>();
  /** Keys a worker holds now. */
  private readonly processing = new Set<string>();
  /** Keys waiting for a delay, with when they become ready. */
  private readonly waiting = new Map<string, { readyAt: number; timer: NodeJS.Timeout }>();
  private readonly getters: Waiter[] = [];
  private readonly drained: Array<() => void> = [];
  private readonly backoff: ExponentialBackoff;
  private readonly bucket: TokenBucket;
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.backoff = new ExponentialBackoff(opts.baseDelayMs ?? 200, opts.maxDelayMs ?? 5 * 60_000);
    this.bucket = new TokenBucket(opts.qps ?? 10, opts.burst ?? 100);
  }

  /**
   * Queues `key` now (default priority high), unless it is already queued; a key queued at low priority
   * moves up when added at high. Ignored after shutDown().
   */
  add(key: string, priority: Priority = 'high'): void {
    if (this.shuttingDown) return;
    this.cancelWait(key);
    const before = this.dirty.get(key);
    const wanted = higher(before, priority);
    if (before === wanted) return;
    this.dirty.set(key, wanted);
    // A key being processed is queued again by done().
    if (this.processing.has(key)) return;
    this.push(key, wanted);
  }

  /**
   * Queues `key` at low priority after `delayMs` (a look we scheduled, not a change someone made); an
   * earlier pending delay of the same key wins over a later one.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key, 'low');
      return;
    }
    // Node fires a timer of more than 2^31-1 ms at once; a longer wait is cut to that (24.8 days).
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    const readyAt = Date.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending && pending.readyAt <= readyAt) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.waiting.delete(key);
      this.add(key, 'low');
    }, delayMs);
    timer.unref?.();
    this.waiting.set(key, { readyAt, timer });
  }

  /** Queues `key` after its back-off (which grows with each call until forget()) and the overall rate limit. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    const delay = Math.max(this.backoff.next(key), this.bucket.reserve());
    this.addAfter(key, delay);
  }

  /** Ends the back-off of `key` (call it after a successful reconcile). */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  /** How many times `key` failed since the last forget(). */
  numRequeues(key: string): number {
    return this.backoff.count(key);
  }

  /**
   * The next key to process; resolves with undefined once the queue is shut down (and, without
   * dropQueued, empty). The caller owns the key until it calls done(key).
   */
  get(): Promise<string | undefined> {
    const key = this.pop();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Releases `key`: if it was added while being processed, it is queued again. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    // After shutDown({ dropQueued: true }) no key is dirty any more, so this only drains when asked to.
    const again = this.dirty.get(key);
    if (again) this.push(key, again);
    this.checkDrained();
  }

  /** Keys ready to be processed (not counting those in a worker or waiting for a delay). */
  len(): number {
    return this.queued.size;
  }

  /** Keys ready to be processed at one priority. */
  lenAt(priority: Priority): number {
    let n = 0;
    for (const p of this.queued.values()) if (p === priority) n++;
    return n;
  }

  /** Keys being processed now. */
  inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for a delay (addAfter or back-off). */
  delayed(): number {
    return this.waiting.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops taking keys (add* are ignored from now on), drops delayed keys (and queued ones, unless
   * `dropQueued` is false), and resolves once every key handed out has been released with done().
   */
  shutDown(opts: ShutDownOptions = {}): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    if (opts.dropQueued ?? true) {
      for (const key of this.queued.keys()) this.dirty.delete(key);
      this.queued.clear();
      this.lanes.high.length = 0;
      this.lanes.low.length = 0;
      for (const key of this.processing) this.dirty.delete(key);
    }
    if (this.queued.size === 0) for (const resolve of this.getters.splice(0)) resolve(undefined);
    return new Promise((resolve) => {
      this.drained.push(resolve);
      this.checkDrained();
    });
  }

  /**
   * Runs `workers` loops, each taking a key, awaiting `handler(key)` and releasing the key. A handler that
   * throws gets its key requeued with back-off (handlers should catch and decide themselves). Resolves when
   * the queue is shut down and every worker has stopped.
   */
  async run(workers: number, handler: (key: string) => Promise<void>): Promise<void> {
    const loop = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
        } catch {
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
  }

  private push(key: string, priority: Priority): void {
    const getter = this.getters.shift();
    if (getter) {
      getter(this.take(key));
      return;
    }
    this.queued.set(key, priority);
    this.lanes[priority].push(key);
  }

  /** The first key of the highest non-empty lane, skipping stale entries of promoted keys. */
  private pop(): string | undefined {
    for (const priority of ['high', 'low'] as const) {
      const lane = this.lanes[priority];
      while (lane.length > 0) {
        const key = lane.shift() as string;
        if (this.queued.get(key) !== priority) continue;
        this.queued.delete(key);
        return key;
      }
    }
    return undefined;
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private cancelWait(key: string): void {
    const pending = this.waiting.get(key);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.waiting.delete(key);
  }

  private checkDrained(): void {
    if (!this.shuttingDown || this.processing.size > 0 || this.queued.size > 0) return;
    for (const resolve of this.drained.splice(0)) resolve();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
  }
}
