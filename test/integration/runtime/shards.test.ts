// ShardSets (the shard Leases of --shards) against the shared API server, in one process so that a sampler
// can see every replica's shards at once: a lone replica holds all, replicas that join get even shares,
// a graceful stop hands its shards over at once, a crash (Leases left to expire) within the lease
// duration, and no shard is ever held by two replicas at the same moment.
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { ShardSet } from '../../../src/runtime/shards.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { waitFor } from '../../support/operator.js';

const SHARDS = 4;
const LEASE_SECONDS = 4;
const RETRY_MS = 300;

describe('ShardSet', () => {
  const namespace = useTestNamespace('rt-shards');
  const sets: ShardSet[] = [];
  const metrics = new Map<ShardSet, RuntimeMetrics>();
  let sampler: NodeJS.Timeout | undefined;
  const doubles: string[] = [];
  afterEach(async () => {
    clearInterval(sampler);
    await Promise.all(sets.splice(0).map((s) => s.stop()));
  });

  function replica(identity: string): ShardSet {
    const m = new RuntimeMetrics({ processMetrics: false });
    const set = new ShardSet({
      shards: SHARDS,
      namespace: namespace(),
      client: new KubeClient(testKubeConfig()),
      identity,
      leaseDurationSeconds: LEASE_SECONDS,
      renewIntervalMs: 1000,
      renewDeadlineMs: 2500,
      retryIntervalMs: RETRY_MS,
      metrics: m,
    });
    sets.push(set);
    metrics.set(set, m);
    set.start();
    return set;
  }
  const counts = (list: ShardSet[]) => list.map((s) => s.heldShards().length);
  const until = (what: string, ok: () => boolean, timeoutMs: number) =>
    waitFor(what, async () => (ok() ? true : undefined), {
      timeoutMs,
      intervalMs: 50,
      describe: async () => JSON.stringify(sets.map((s) => [s.identity, s.heldShards()])),
    });

  it('spreads evenly as replicas join and leave, hands over within the lease duration, never doubly held', async () => {
    sampler = setInterval(() => {
      for (let shard = 0; shard < SHARDS; shard++) {
        const holders = sets.filter((s) => s.holds(shard)).map((s) => s.identity);
        if (holders.length > 1) doubles.push(`shard ${shard}: ${holders}`);
      }
    }, 10);
    const a = replica('a');
    await until('a alone to hold every shard', () => a.heldShards().length === SHARDS, 15_000);
    const gauge = async (s: ShardSet) =>
      (await metrics.get(s)!.registry.getSingleMetric('clusterforge_shards_held')!.get()).values[0]?.value;
    expect(await gauge(a)).toBe(SHARDS);
    // The gate: open for a held shard, and a reconcile inside it is counted until it ends.
    const exit = a.enter(0);
    expect(exit).toBeTypeOf('function');
    exit!();

    const b = replica('b');
    await until('2 + 2', () => counts([a, b]).join() === '2,2', 20_000);
    expect(a.enter(b.heldShards()[0]!)).toBeUndefined();

    const c = replica('c');
    await until('2 + 1 + 1', () => counts([a, b, c]).sort().join() === '1,1,2', 20_000);

    // A graceful stop releases: the others take its shards at their next try, far inside the lease duration.
    let t = Date.now();
    await c.stop();
    sets.splice(sets.indexOf(c), 1);
    await until('2 + 2 after c stopped', () => counts([a, b]).join() === '2,2', 10_000);
    const handover = Date.now() - t;

    // A crash: b's Leases are left to expire; a takes them within the lease duration and a few tries.
    const bShards = b.heldShards();
    t = Date.now();
    await b.stop({ release: false });
    sets.splice(sets.indexOf(b), 1);
    await until('a to hold every shard again', () => a.heldShards().length === SHARDS, 20_000);
    const takeover = Date.now() - t;
    console.log(
      `graceful hand-over ${handover} ms; shards ${bShards} taken over ${takeover} ms after a crash`,
    );
    expect(handover).toBeLessThan(LEASE_SECONDS * 1000);
    expect(takeover).toBeLessThanOrEqual(LEASE_SECONDS * 1000 + 4 * RETRY_MS);
    expect(await gauge(a)).toBe(SHARDS);
    expect(doubles).toEqual([]);
  }, 120_000);
});
