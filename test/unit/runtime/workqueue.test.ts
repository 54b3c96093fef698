import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../../src/runtime/token-bucket.js';
import { ExponentialBackoff, WorkQueue } from '../../../src/runtime/workqueue.js';

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every pending promise callback run (fake timers do not advance them). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('WorkQueue: de-duplication', () => {
  it('keeps one entry per key while it waits, in first-added order', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/a');
    q.add('ns/a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
    expect(q.len()).toBe(0);
  });

  it('hands a waiting get() the next key added', async () => {
    const q = new WorkQueue();
    const next = q.get();
    q.add('ns/a');
    expect(await next).toBe('ns/a');
    expect(q.inFlight()).toBe(1);
  });
});

describe('WorkQueue: priorities', () => {
  it('hands out every high key before any low one, each lane in the order added', async () => {
    const q = new WorkQueue();
    q.add('ns/resync-1', 'low');
    q.add('ns/resync-2', 'low');
    q.add('ns/edited');
    q.add('ns/created', 'high');
    expect(q.lenAt('high')).toBe(2);
    expect(q.lenAt('low')).toBe(2);
    const order = [];
    for (let i = 0; i < 4; i++) order.push(await q.get());
    expect(order).toEqual(['ns/edited', 'ns/created', 'ns/resync-1', 'ns/resync-2']);
  });

  it('moves a key waiting at low up when it is added at high, and hands it out once', async () => {
    const q = new WorkQueue();
    q.add('ns/a', 'low');
    q.add('ns/b', 'low');
    q.add('ns/b', 'high');
    q.add('ns/b', 'low'); // a later low add does not demote it
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('ns/b');
    expect(await q.get()).toBe('ns/a');
    expect(q.len()).toBe(0);
    q.done('ns/a');
    q.done('ns/b');
    // The stale low entry left by the move is never handed out again.
    q.add('ns/c', 'low');
    expect(await q.get()).toBe('ns/c');
    expect(q.len()).toBe(0);
  });

  it('requeues a key changed while it was processed at the highest priority asked', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    await q.get();
    q.add('ns/a', 'low');
    q.add('ns/a', 'high');
    q.add('ns/z', 'low');
    q.done('ns/a');
    expect(await q.get()).toBe('ns/a');
  });

  it('queues delayed keys at low priority', async () => {
    vi.useFakeTimers();
    try {
      const q = new WorkQueue();
      q.addAfter('ns/poll', 1_000);
      vi.advanceTimersByTime(1_000);
      q.add('ns/event');
      expect(q.lenAt('low')).toBe(1);
      expect(await q.get()).toBe('ns/event');
      expect(await q.get()).toBe('ns/poll');
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('WorkQueue: one reconcile per key at a time', () => {
  it('holds back a key added while it is processed until done(), then queues it once', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const key = await q.get();
    expect(key).toBe('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    expect(q.len()).toBe(0);
    q.done('ns/a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('ns/a');
    q.done('ns/a');
    expect(q.len()).toBe(0);
  });

  it('never runs one key on two workers, and runs different keys in parallel', async () => {
    const q = new WorkQueue();
    const active = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let total = 0;
    const calls: string[] = [];
    const gates: Array<() => void> = [];
    const runner = q.run(3, async (key) => {
      calls.push(key);
      active.set(key, (active.get(key) ?? 0) + 1);
      total++;
      maxPerKey = Math.max(maxPerKey, active.get(key) ?? 0);
      maxTotal = Math.max(maxTotal, total);
      const gate = deferred();
      gates.push(gate.resolve);
      await gate.promise;
      active.set(key, (active.get(key) ?? 0) - 1);
      total--;
    });
    q.add('ns/a');
    q.add('ns/b');
    q.add('ns/c');
    await settle();
    expect(calls.sort()).toEqual(['ns/a', 'ns/b', 'ns/c']);
    // While all three run, `a` is added again, several times.
    q.add('ns/a');
    q.add('ns/a');
    await settle();
    expect(calls).toHaveLength(3);
    // Release the first round: `a` runs once more, alone for its key.
    for (const release of gates.splice(0)) release();
    await settle();
    expect(calls.filter((k) => k === 'ns/a')).toHaveLength(2);
    for (const release of gates.splice(0)) release();
    await settle();
    const stopped = q.shutDown();
    await stopped;
    await runner;
    expect(maxPerKey).toBe(1);
    expect(maxTotal).toBe(3);
  });
});

describe('WorkQueue: back-off, delays and rate limit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backs a failing key off exponentially up to the maximum, and forget() resets it', async () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000 });
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      q.addRateLimited('ns/a');
      expect(q.len()).toBe(0);
      const started = Date.now();
      while (q.len() === 0) await vi.advanceTimersByTimeAsync(10);
      delays.push(Date.now() - started);
      expect(await q.get()).toBe('ns/a');
      q.done('ns/a');
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(q.numRequeues('ns/a')).toBe(6);

    q.forget('ns/a');
    expect(q.numRequeues('ns/a')).toBe(0);
    q.addRateLimited('ns/a');
    await vi.advanceTimersByTimeAsync(99);
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.len()).toBe(1);
  });

  it('keeps back-off per key', () => {
    const b = new ExponentialBackoff(10, 10_000);
    expect([b.next('a'), b.next('a'), b.next('a')]).toEqual([10, 20, 40]);
    expect(b.next('b')).toBe(10);
    b.forget('a');
    expect(b.next('a')).toBe(10);
  });

  it('addAfter queues a key after the delay; the earliest pending delay wins', async () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 500);
    expect(q.len()).toBe(0);
    expect(q.delayed()).toBe(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.len()).toBe(1);
    expect(q.delayed()).toBe(0);
    await q.get();
    q.done('ns/a');

    // A later delay does not postpone an earlier one ...
    q.addAfter('ns/b', 200);
    q.addAfter('ns/b', 1000);
    await vi.advanceTimersByTimeAsync(200);
    expect(q.len()).toBe(1);
    await q.get();
    q.done('ns/b');
    await vi.advanceTimersByTimeAsync(1000);
    expect(q.len()).toBe(0);

    // ... and an earlier one replaces a later one.
    q.addAfter('ns/c', 1000);
    q.addAfter('ns/c', 100);
    await vi.advanceTimersByTimeAsync(100);
    expect(q.len()).toBe(1);
    await q.get();
    q.done('ns/c');
    await vi.advanceTimersByTimeAsync(1000);
    expect(q.len()).toBe(0);
  });

  it('addAfter with a delay longer than a Node timer holds (24.8 days) still waits', async () => {
    const q = new WorkQueue();
    q.addAfter('ns/far', 400 * 24 * 60 * 60_000);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(q.len()).toBe(0);
    expect(q.delayed()).toBe(1);
  });

  it('add() makes a delayed key ready at once', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 10_000);
    q.add('ns/a');
    expect(q.len()).toBe(1);
    expect(q.delayed()).toBe(0);
  });

  it('addAfter with no delay adds at once', () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 0);
    expect(q.len()).toBe(1);
  });

  it('spreads rate-limited adds of many keys by the token bucket', async () => {
    // 10 per second, burst 2: two keys go after their (1 ms) back-off, the next ones 100 ms apart.
    const q = new WorkQueue({ baseDelayMs: 1, qps: 10, burst: 2 });
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) q.addRateLimited(key);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.len()).toBe(2);
    await vi.advanceTimersByTimeAsync(98);
    expect(q.len()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.len()).toBe(3);
    await vi.advanceTimersByTimeAsync(100);
    expect(q.len()).toBe(4);
    await vi.advanceTimersByTimeAsync(100);
    expect(q.len()).toBe(5);
  });

  it('refills the token bucket over time', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 1, () => now);
    expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(100);
    now = 1000;
    expect(bucket.reserve()).toBe(0);
  });

  it('requeues a key with back-off when the handler throws', async () => {
    const q = new WorkQueue({ baseDelayMs: 50 });
    let calls = 0;
    const runner = q.run(1, async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
    });
    q.add('ns/a');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    expect(q.delayed()).toBe(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(calls).toBe(2);
    await q.shutDown();
    await runner;
  });
});

describe('WorkQueue: shutDown', () => {
  it('waits for keys in flight, drops queued and delayed ones, and ignores new adds', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/b');
    q.addAfter('ns/c', 60_000);
    const key = await q.get();
    expect(key).toBe('ns/a');
    let drained = false;
    const stopping = q.shutDown().then(() => {
      drained = true;
    });
    await settle();
    expect(drained).toBe(false);
    expect(q.len()).toBe(0);
    expect(q.delayed()).toBe(0);
    q.add('ns/d');
    expect(q.len()).toBe(0);
    q.done('ns/a');
    await stopping;
    expect(drained).toBe(true);
    expect(await q.get()).toBeUndefined();
  });

  it('with dropQueued false, workers finish every queued key first', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    for (const key of ['a', 'b', 'c']) q.add(key);
    const gate = deferred();
    const runner = q.run(1, async (key) => {
      seen.push(key);
      await gate.promise;
    });
    await settle();
    const stopping = q.shutDown({ dropQueued: false });
    gate.resolve();
    await stopping;
    await runner;
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it('ends idle workers at once', async () => {
    const q = new WorkQueue();
    const runner = q.run(4, async () => {});
    await q.shutDown();
    await runner;
    expect(q.isShuttingDown()).toBe(true);
  });
});
