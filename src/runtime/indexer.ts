// The informer's cache: objects by key, plus named indexes, in the manner of client-go's ThreadSafeStore.
//
// Objects enter frozen (deeply, once) and are handed out as they are: a reader pays nothing, and a
// caller that must change one copies that one object (structuredClone) instead of the store copying
// every object for every reader. An index maps an object to index values (its namespace, a label, a
// spec field); byIndex() then costs O(matches), not O(objects), which is what keeps a watch mapping or a
// lookup of a cluster's machines cheap at thousands of objects.

/** From an object to its values in one index; [] when it has none. */
export type IndexFunc<T> = (obj: T) => string[];

/** The index every store has: objects by namespace ('' for cluster-scoped ones). */
export const NAMESPACE_INDEX = 'namespace';

/** Freezes `value` and everything reachable from it. Returns it. */
export function deepFreeze<V>(value: V): V {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  return value;
}

/** The index value of an object's namespace and one field: `namespace/value`. */
export function namespacedValue(namespace: string | undefined, value: string): string {
  return `${namespace ?? ''}/${value}`;
}

export class IndexedStore<T extends { metadata?: { namespace?: string } }> {
  private objects = new Map<string, T>();
  private readonly indexFuncs = new Map<string, IndexFunc<T>>();
  /** index name -> index value -> keys. */
  private readonly indexes = new Map<string, Map<string, Set<string>>>();
  /** Keys in order, rebuilt on the next read after a key was added or removed. */
  private sortedKeys: string[] | undefined;

  constructor() {
    this.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata?.namespace ?? '']);
  }

  /** Adds an index; objects already stored are indexed at once. A name can be added once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.indexFuncs.has(name)) throw new Error(`index ${name} exists already`);
    this.indexFuncs.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indexes.set(name, index);
    for (const [key, obj] of this.objects) this.indexOne(index, fn, key, obj);
  }

  hasIndex(name: string): boolean {
    return this.indexFuncs.has(name);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  has(key: string): boolean {
    return this.objects.has(key);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Every key, in order. The array is shared: do not change it. */
  keys(): readonly string[] {
    this.sortedKeys ??= [...this.objects.keys()].sort();
    return this.sortedKeys;
  }

  entries(): IterableIterator<[string, T]> {
    return this.objects.entries();
  }

  /** The objects whose index `name` holds `value`, ordered by key. */
  byIndex(name: string, value: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name}`);
    const keys = index.get(value);
    if (!keys || keys.size === 0) return [];
    return [...keys].sort().map((key) => this.objects.get(key) as T);
  }

  /** Stores `obj` (frozen from now on) under `key`; returns what was there before. */
  set(key: string, obj: T): T | undefined {
    const old = this.objects.get(key);
    if (old) this.unindex(key, old);
    else this.sortedKeys = undefined;
    deepFreeze(obj);
    this.objects.set(key, obj);
    for (const [name, fn] of this.indexFuncs) this.indexOne(this.indexes.get(name)!, fn, key, obj);
    return old;
  }

  delete(key: string): T | undefined {
    const old = this.objects.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.objects.delete(key);
    this.sortedKeys = undefined;
    return old;
  }

  /** Replaces everything at once (a relist); returns the objects held before. */
  replace(next: Map<string, T>): Map<string, T> {
    const previous = this.objects;
    this.objects = new Map();
    this.sortedKeys = undefined;
    for (const index of this.indexes.values()) index.clear();
    for (const [key, obj] of next) this.set(key, obj);
    return previous;
  }

  private indexOne(index: Map<string, Set<string>>, fn: IndexFunc<T>, key: string, obj: T): void {
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) {
        keys = new Set();
        index.set(value, keys);
      }
      keys.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexFuncs) {
      const index = this.indexes.get(name)!;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}
