// The shard of a cluster: the same on every replica and in every version (pinned values), balanced, and
// growing the shard count moves only the keys the new shard wins.
import { describe, expect, it } from 'vitest';
import { hash32, shardOf } from '../../../src/runtime/shard-hash.js';

const keys = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ namespace: `ns-${i % 7}`, name: `cluster-${i}` }));

describe('shardOf', () => {
  it('is a pure function of namespace/name and the shard count, pinned so replicas of two versions agree', () => {
    // Changing hash32 or the key format would split a rolling update's replicas over different shards.
    expect([hash32(''), hash32('a'), hash32('default/sim#0')]).toEqual([2872998923, 444641715, 3058656760]);
    const pinned = ['default/a', 'default/b', 'team-x/prod', 'team-x/staging', 'ns/c-0'].map((k) => {
      const [ns, name] = k.split('/') as [string, string];
      return [shardOf(ns, name, 3), shardOf(ns, name, 8)];
    });
    expect(pinned).toMatchInlineSnapshot(`
      [
        [
          1,
          3,
        ],
        [
          1,
          1,
        ],
        [
          0,
          0,
        ],
        [
          1,
          1,
        ],
        [
          1,
          1,
        ],
      ]
    `);
    for (const { namespace, name } of keys(200)) {
      expect(shardOf(namespace, name, 5)).toBe(shardOf(namespace, name, 5));
    }
  });

  it('one shard (or fewer) is shard 0; every answer is a shard number', () => {
    expect(shardOf('default', 'a', 1)).toBe(0);
    expect(shardOf('default', 'a', 0)).toBe(0);
    for (const { namespace, name } of keys(500)) {
      const s = shardOf(namespace, name, 7);
      expect(Number.isInteger(s) && s >= 0 && s < 7).toBe(true);
    }
  });

  it.each([2, 3, 10])('spreads 6,000 clusters over %i shards within 10 %% of an even share', (shards) => {
    const counts = new Array(shards).fill(0);
    for (const { namespace, name } of keys(6000)) counts[shardOf(namespace, name, shards)] += 1;
    const even = 6000 / shards;
    for (const count of counts) {
      expect(count).toBeGreaterThan(even * 0.9);
      expect(count).toBeLessThan(even * 1.1);
    }
  });

  it('spreads names that differ in one character (cluster-1, cluster-2, ...) as well as random ones', () => {
    const counts = [0, 0, 0];
    for (let i = 0; i < 60; i++) counts[shardOf('default', `c${i}`, 3)]! += 1;
    // 60 clusters, as the integration test makes: no shard empty nor holding half.
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(10);
    for (const count of counts) expect(count).toBeLessThanOrEqual(30);
  });

  it('going from N to N + 1 shards moves only keys to the new shard, about 1 / (N + 1) of them', () => {
    for (const n of [2, 3, 5]) {
      let moved = 0;
      const all = keys(6000);
      for (const { namespace, name } of all) {
        const before = shardOf(namespace, name, n);
        const after = shardOf(namespace, name, n + 1);
        if (after !== before) {
          expect(after).toBe(n);
          moved += 1;
        }
      }
      expect(moved / all.length).toBeGreaterThan((1 / (n + 1)) * 0.85);
      expect(moved / all.length).toBeLessThan((1 / (n + 1)) * 1.15);
    }
  });
});
