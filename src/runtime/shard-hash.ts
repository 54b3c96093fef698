// Which shard a cluster belongs to: rendezvous (highest random weight) hashing of its namespace/name over
// the shard numbers. Every replica computes the same answer with no shared state, and going from N to
// N + 1 shards moves only the keys the new shard wins (about 1 / (N + 1) of them).

/** 32-bit FNV-1a of a string's UTF-16 code units, finished with murmur3's avalanche so close inputs spread. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The shard (0 .. shards - 1) of a cluster, from its namespace and name. */
export function shardOf(namespace: string, name: string, shards: number): number {
  if (shards <= 1) return 0;
  const key = `${namespace}/${name}`;
  let best = 0;
  let bestScore = -1;
  for (let shard = 0; shard < shards; shard++) {
    const score = hash32(`${key}#${shard}`);
    // Ties (rare) go to the lower shard number, so every replica agrees.
    if (score > bestScore) {
      best = shard;
      bestScore = score;
    }
  }
  return best;
}
