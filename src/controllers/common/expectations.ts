// Creations the cache has not shown yet. Without this, a reconcile that runs before the informer
// sees the Machine it just made would make a second one. Only in memory: after a restart the cache
// is freshly listed, so there is nothing to remember.
import type { Store } from './store.js';

export class Expectations {
  private readonly pending = new Map<string, Set<string>>();

  expect(owner: string, name: string): void {
    const set = this.pending.get(owner) ?? new Set<string>();
    set.add(name);
    this.pending.set(owner, set);
  }

  /** Names still awaited, after dropping those the cache now has. */
  outstanding(owner: string, seen: (name: string) => boolean): string[] {
    const set = this.pending.get(owner);
    if (!set) return [];
    for (const name of set) if (seen(name)) set.delete(name);
    if (set.size === 0) this.pending.delete(owner);
    return [...set];
  }

  /** Whether every machine the owner made is in the cache (`machines`): only then is a plan safe. */
  settled(owner: string, machines: { metadata: { name?: string } }[]): boolean {
    return this.outstanding(owner, (n) => machines.some((m) => m.metadata.name === n)).length === 0;
  }

  forget(owner: string): void {
    this.pending.delete(owner);
  }

  /** The owner as the cache holds it; an owner that is gone takes what it awaited with it. */
  ownerOrForget<T>(store: Store<T>, key: { namespace: string; name: string }): T | undefined {
    const owner = store.get(key.namespace, key.name);
    if (!owner) this.forget(`${key.namespace}/${key.name}`);
    return owner;
  }
}
