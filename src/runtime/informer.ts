// One resource, in one namespace or all, kept in an in-memory cache: the list-and-watch loop
// (list-watch.ts) fills it, handlers hear of each change by key, reconcilers read from it.
//
// The cache is swapped whole on a relist and changed one object at a time by watch events, synchronously,
// on the one event loop: a reader never sees half a relist. Objects enter the cache without their
// managedFields (half of an object, and nothing here reads them) and frozen; get(), list() and byIndex()
// hand out the cached objects themselves, read-only, so a read costs no copy. A caller that must change
// an object copies that one (structuredClone).
//
// Read your writes: observeWrite() puts the API server's answer to one of our own writes into the cache
// at once, so the next reconcile does not act on the version before it (and write or tell the same thing
// twice) while the watch event is still on its way. A watch event older than what the cache holds does not
// replace it; handlers still hear of every event, so watch mappings behave as before.
import type { Logger } from 'pino';
import { IndexedStore, type IndexFunc, NAMESPACE_INDEX } from './indexer.js';
import { type InformerStats, ListWatchLoop, type ListWatchTuning } from './list-watch.js';
import { silentLogger } from './log.js';
import { formatKey, type KubeObject, keyOf } from './object-key.js';
import { isNewer } from './resource-version.js';
import { type KubeClient, type ResourceRef, resourcePath, type WatchEvent } from './transport.js';

/** What to watch: a resource, in one namespace or all, optionally narrowed by selectors. */
export interface InformerSpec extends ResourceRef {
  /** Undefined: all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerOptions extends InformerSpec, ListWatchTuning {
  client: KubeClient;
  log?: Logger;
}

/** What the cache keeps of an object: all but metadata.managedFields. */
function stripManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as (KubeObject['metadata'] & { managedFields?: unknown }) | undefined;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
  return obj;
}

/** How long a deleted key is remembered, so a late answer to a write cannot bring the object back. */
const TOMBSTONE_MS = 60_000;

/** Handlers receive keys only; a reconciler reads the object from the cache. */
export interface InformerHandler<T> {
  /** `initialList`: the object came with the first list (or the replay for a late handler), not as a change. */
  onAdd?(key: string, initialList: boolean): void;
  onUpdate?(key: string): void;
  /** `last` is the object as the cache last had it (for mapping functions; never reconcile from it). */
  onDelete?(key: string, last: T): void;
}

export interface ListFilter<T> {
  namespace?: string;
  /** Every label must be present with this value. */
  labels?: Record<string, string>;
  /** Sees the cached object itself: it must not change it. */
  where?: (obj: T) => boolean;
}

export class Informer<T extends KubeObject = KubeObject> {
  /** e.g. `configmaps` or `clusters.clusterforge.dev`, plus the namespace when there is one. */
  readonly name: string;
  readonly spec: Readonly<InformerSpec>;
  private readonly log: Logger;
  private readonly loop: ListWatchLoop<T>;

  private readonly cache = new IndexedStore<T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly syncWaiters = new Set<() => void>();
  /** Keys deleted recently: key -> [resourceVersion of the delete, when]. */
  private readonly tombstones = new Map<string, [string | undefined, number]>();
  private synced = false;
  private stopping = false;

  constructor(opts: InformerOptions) {
    this.spec = {
      group: opts.group,
      version: opts.version,
      plural: opts.plural,
      namespace: opts.namespace,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    };
    const selectors = [opts.labelSelector, opts.fieldSelector].filter(Boolean).join(',');
    this.name = [
      `${opts.plural}${opts.group ? `.${opts.group}` : ''}`,
      opts.namespace ? ` in ${opts.namespace}` : '',
      selectors ? ` (${selectors})` : '',
    ].join('');
    this.log = (opts.log ?? silentLogger()).child({ informer: this.name });
    this.loop = new ListWatchLoop<T>(
      { ...opts, log: this.log, path: resourcePath(opts, { namespace: opts.namespace }) },
      {
        replace: (items, listKind, relist) => this.replace(items, listKind, relist),
        apply: (e) => this.apply(e),
      },
    );
  }

  /** Starts the loop in the background (once). */
  start(): void {
    if (!this.stopping) this.loop.start();
  }

  /** Ends the loop and its watch; resolves once it has ended. The cache stays readable. */
  async stop(): Promise<void> {
    this.stopping = true;
    const ended = this.loop.stop();
    for (const resolve of this.syncWaiters) resolve();
    this.syncWaiters.clear();
    await ended;
  }

  /** True once the first list has filled the cache (and stays true). */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once hasSynced(); rejects when `timeoutMs` passes first or the informer stops first. */
  waitForSync(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopping) return Promise.reject(new Error(`informer ${this.name} stopped before it synced`));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (err?: Error): void => {
        this.syncWaiters.delete(onSync);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onSync = (): void =>
        this.synced ? done() : done(new Error(`informer ${this.name} stopped before it synced`));
      const onAbort = (): void => done(new Error(`waiting for informer ${this.name} to sync was aborted`));
      this.syncWaiters.add(onSync);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      if (opts.timeoutMs !== undefined) {
        timer = setTimeout(
          () => done(new Error(`informer ${this.name} did not sync within ${opts.timeoutMs} ms`)),
          opts.timeoutMs,
        );
      }
    });
  }

  /** The cached object (frozen: read-only), or undefined. Use namespace '' for cluster-scoped objects. */
  get(namespace: string, name: string): T | undefined {
    return this.cache.get(formatKey(namespace, name));
  }

  getByKey(key: string): T | undefined {
    return this.cache.get(key);
  }

  /** The cached objects (read-only) that pass the filter, ordered by key. */
  list(filter: ListFilter<T> = {}): T[] {
    const candidates =
      filter.namespace !== undefined
        ? this.cache.byIndex(NAMESPACE_INDEX, filter.namespace)
        : this.cache.keys().map((key) => this.cache.get(key) as T);
    if (!filter.labels && !filter.where) return candidates;
    return candidates.filter(
      (obj) => (!filter.labels || matchesLabels(obj, filter.labels)) && (!filter.where || filter.where(obj)),
    );
  }

  /**
   * Adds a named index (client-go's Indexers). Values are compared as strings; include the namespace in
   * them (namespacedValue) when the lookups are per namespace.
   */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.cache.addIndex(name, fn);
  }

  hasIndex(name: string): boolean {
    return this.cache.hasIndex(name);
  }

  /** The cached objects (read-only) whose index `name` holds `value`, ordered by key. */
  byIndex(name: string, value: string): T[] {
    return this.cache.byIndex(name, value);
  }

  keys(): string[] {
    return [...this.cache.keys()];
  }

  /**
   * The object as the API server answered one of our writes (create, patch, update): cached at once when
   * it is newer than the cached one, without telling the handlers (its watch event will). Ignored when
   * the version cannot be compared or the key was deleted since. An answer that removed the last
   * finalizer of a deleted object means the object is gone: it leaves the cache at once, so that the
   * watch events still on their way (which hold the finalizer) do not start its deletion over.
   */
  observeWrite(answer: T): void {
    const meta = answer.metadata;
    if (!meta?.name || !meta.resourceVersion) return;
    const key = keyOf(answer);
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0) {
      this.cache.delete(key);
      this.bury(key, meta.resourceVersion);
      return;
    }
    const cached = this.cache.get(key);
    const against = cached ? cached.metadata?.resourceVersion : this.tombstoneVersion(key);
    if (cached || against !== undefined) {
      if (isNewer(meta.resourceVersion, against) !== true) return;
    } else if (isNewer(meta.resourceVersion, '0') !== true) return;
    if (!this.matches(answer)) return;
    this.cache.set(key, stripManagedFields(structuredClone(answer)));
  }

  get size(): number {
    return this.cache.size;
  }

  /** The resourceVersion the next watch starts from. */
  get lastSyncResourceVersion(): string {
    return this.loop.resourceVersion;
  }

  get stats(): Readonly<InformerStats> {
    return this.loop.stats;
  }

  /**
   * Adds handlers; returns a function that removes them. When the cache has synced, onAdd is called at
   * once for every cached key (as if the objects had just been listed).
   */
  addHandler(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    if (this.synced) for (const key of this.keys()) this.call(handler, 'onAdd', key, undefined, true);
    return () => {
      this.handlers.delete(handler);
    };
  }

  // -------------------------------------------------------------------------------------------------

  /** A full list from the loop: the cache becomes exactly these objects; handlers hear the differences. */
  private replace(items: T[], listKind: string | undefined, relist: boolean): void {
    // List items carry no apiVersion/kind; give them the list's so copies are complete objects.
    const apiVersion = this.spec.group ? `${this.spec.group}/${this.spec.version}` : this.spec.version;
    const kind = listKind?.endsWith('List') ? listKind.slice(0, -4) : undefined;
    const next = new Map<string, T>();
    for (const item of items) {
      if (!item.apiVersion) item.apiVersion = apiVersion;
      if (!item.kind && kind) item.kind = kind;
      const key = keyOf(item);
      const cached = this.cache.get(key);
      // A list can be served from before one of our own writes that the cache holds already.
      const keep =
        cached && isNewer(cached.metadata?.resourceVersion, item.metadata?.resourceVersion) === true;
      next.set(key, keep ? cached : stripManagedFields(item));
    }
    const added: string[] = [];
    const updated: string[] = [];
    const deleted: Array<[string, T]> = [];
    for (const [key, obj] of next) {
      const old = this.cache.get(key);
      if (!old) added.push(key);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) updated.push(key);
    }
    for (const [key, old] of this.cache.entries()) if (!next.has(key)) deleted.push([key, old]);
    this.cache.replace(next);
    this.log.debug(
      { objects: next.size, added: added.length, updated: updated.length, deleted: deleted.length, relist },
      'listed',
    );
    for (const key of added) this.emit('onAdd', key, undefined, !relist);
    for (const key of updated) this.emit('onUpdate', key);
    for (const [key, old] of deleted) this.emit('onDelete', key, old);
    if (!this.synced) {
      this.synced = true;
      for (const resolve of this.syncWaiters) resolve();
      this.syncWaiters.clear();
    }
  }

  /** Applies one watch event (ADDED, MODIFIED or DELETED) to the cache and tells the handlers. */
  private apply(event: WatchEvent): void {
    const obj = stripManagedFields(event.object as T);
    const key = keyOf(obj);
    const old = this.cache.get(key);
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        // From before the answer that removed the object's last finalizer: it is gone; its DELETED follows.
        const buried = old ? undefined : this.tombstoneVersion(key);
        if (buried !== undefined && isNewer(obj.metadata?.resourceVersion, buried) !== true) break;
        // Older than an answer to our own write that the cache already holds: keep that one.
        if (isNewer(old?.metadata?.resourceVersion, obj.metadata?.resourceVersion) !== true)
          this.cache.set(key, obj);
        if (old) this.emit('onUpdate', key);
        else this.emit('onAdd', key);
        break;
      }
      case 'DELETED':
        this.cache.delete(key);
        this.bury(key, obj.metadata?.resourceVersion);
        this.emit('onDelete', key, old ?? obj);
        break;
      default:
        this.log.debug({ type: (event as { type?: string }).type }, 'ignoring a watch event of unknown type');
    }
  }

  private bury(key: string, resourceVersion: string | undefined): void {
    const now = Date.now();
    this.tombstones.delete(key); // so that the newest stays last in insertion order
    this.tombstones.set(key, [resourceVersion, now]);
    for (const [k, [, at]] of this.tombstones) {
      if (now - at < TOMBSTONE_MS) break; // insertion order: the rest are younger
      this.tombstones.delete(k);
    }
  }

  private tombstoneVersion(key: string): string | undefined {
    const t = this.tombstones.get(key);
    return t && Date.now() - t[1] < TOMBSTONE_MS ? (t[0] ?? '0') : undefined;
  }

  /** Whether the object is one this informer watches (its namespace and label selector). */
  private matches(obj: T): boolean {
    if (this.spec.namespace && obj.metadata?.namespace !== this.spec.namespace) return false;
    const selector = this.spec.labelSelector;
    if (!selector) return !this.spec.fieldSelector;
    // Only the selector forms the operator uses: `label` (exists) and `label=value`, comma-separated.
    return selector.split(',').every((term) => {
      const [name, value] = term.split('=');
      const labels = obj.metadata?.labels ?? {};
      if (!name || term.includes('!')) return false;
      return value === undefined ? name in labels : labels[name] === value;
    });
  }

  private emit(kind: 'onAdd', key: string, last?: undefined, initialList?: boolean): void;
  private emit(kind: 'onUpdate', key: string): void;
  private emit(kind: 'onDelete', key: string, last: T): void;
  private emit(kind: keyof InformerHandler<T>, key: string, last?: T, initialList = false): void {
    for (const handler of this.handlers) this.call(handler, kind, key, last, initialList);
  }

  private call(
    handler: InformerHandler<T>,
    kind: keyof InformerHandler<T>,
    key: string,
    last?: T,
    initialList = false,
  ): void {
    try {
      if (kind === 'onDelete') handler.onDelete?.(key, last as T);
      else if (kind === 'onAdd') handler.onAdd?.(key, initialList);
      else handler.onUpdate?.(key);
    } catch (err) {
      this.log.error({ err, key, handler: kind }, 'informer handler threw');
    }
  }
}

export function matchesLabels(obj: KubeObject, labels: Record<string, string>): boolean {
  const have = obj.metadata?.labels ?? {};
  return Object.entries(labels).every(([name, value]) => have[name] === value);
}
