// Our own list-and-watch loop for one resource, with an in-memory cache.
//
// The loop:
//   list (paginated: limit + continue) -> replace the cache, computing adds, updates and deletes
//   -> watch from the list's resourceVersion with allowWatchBookmarks -> apply each event to the cache
//   -> when the watch ends:
//        server closed it cleanly (its timeoutSeconds)   -> watch again from the last resourceVersion
//        410 Gone / Expired (HTTP or an ERROR event)     -> relist, at once the first time, then with back-off
//        the connection dropped or was refused           -> watch again after a jittered exponential back-off
//        nothing arrived for staleAfterMs (no event, no  -> abort the watch and relist
//        bookmark, no end: a silently dead connection)
// The back-off resets only once a watch delivers something or stays open a while, so no sequence of
// failures can loop hot.
//
// The cache is swapped whole on a relist and changed one object at a time by watch events, synchronously,
// on the one event loop: a reader never sees half a relist. Objects enter the cache without their
// managedFields (half of an object, and nothing here reads them) and frozen; get(), list() and byIndex()
// hand out the cached objects themselves, read-only, so a read costs no copy. A caller that must change
// an object copies that one (structuredClone).
import type { Logger } from 'pino';
import { isGone, KubeApiError } from './errors.js';
import { IndexedStore, type IndexFunc, NAMESPACE_INDEX } from './indexer.js';
import { silentLogger } from './log.js';
import { formatKey, type KubeObject, keyOf } from './object-key.js';
import {
  type KubeClient,
  type ResourceRef,
  resourcePath,
  type WatchEvent,
  watchStatusError,
} from './transport.js';

// The object and key types live in object-key.ts; importers of the informer find them here too.
export { formatKey, type KubeObject, keyOf, type ObjectKey, parseKey } from './object-key.js';

/** What to watch: a resource, in one namespace or all, optionally narrowed by selectors. */
export interface InformerSpec extends ResourceRef {
  /** Undefined: all namespaces (or a cluster-scoped resource). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface InformerOptions extends InformerSpec {
  client: KubeClient;
  log?: Logger;
  /** Objects per list page. Default 500. */
  pageSize?: number;
  /**
   * Each watch asks the server to end it after a random time in [t, 2t] seconds; a watch the server ends
   * is resumed at once from the last resourceVersion (no relist). Default t = 60.
   */
  watchTimeoutSeconds?: number;
  /**
   * Abort and relist a watch from which nothing (no event, no bookmark, no end) arrived for this long.
   * Bookmarks are not a heartbeat to rely on (the API server sends none for a resource whose watch cache
   * has seen no event since it started), so the default outlasts the server's own end of a healthy quiet
   * watch: (2t + 30) s, 150 s with the default t. Only a connection that died silently gets that far.
   */
  staleAfterMs?: number;
  /** Reconnect and relist back-off: first delay (before jitter). Default 250 ms. */
  backoffBaseMs?: number;
  /** Reconnect and relist back-off: largest delay. Default 30 s. */
  backoffMaxMs?: number;
  /** Told of each list, relist, 410, stale watch and reconnect (for metrics). */
  onLoopEvent?: (event: InformerLoopEvent) => void;
}

/** What the cache keeps of an object: all but metadata.managedFields. */
function stripManagedFields<T extends KubeObject>(obj: T): T {
  const meta = obj.metadata as (KubeObject['metadata'] & { managedFields?: unknown }) | undefined;
  if (meta && 'managedFields' in meta) delete meta.managedFields;
  return obj;
}

export type InformerLoopEvent = 'list' | 'relist' | 'gone' | 'stale' | 'reconnect';

/** What the loop has done so far; tests and /metrics read it. */
export interface InformerStats {
  /** Successful full lists, the first included. */
  lists: number;
  /** Successful full lists after the first (after a 410, a stale watch, an unknown watch error). */
  relists: number;
  /** List pages fetched. */
  pages: number;
  /** Watches opened (answered 200). */
  watches: number;
  /** Watches that ended with 410 Gone / Expired. */
  gone: number;
  /** Watches aborted because nothing arrived for staleAfterMs. */
  staleAborts: number;
  /** Watches that ended with a dropped or refused connection or a server error. */
  connectionErrors: number;
  /** Bookmarks received. */
  bookmarks: number;
}

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

interface ListPage<T> {
  kind?: string;
  apiVersion?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

type WatchOutcome = {
  kind: 'closed' | 'gone' | 'stale' | 'error' | 'stopped';
  /** The watch delivered at least one event or bookmark. */
  progressed: boolean;
  /** How long the watch stayed open. */
  durationMs: number;
  error?: unknown;
};

/** A watch the server ends after this long counts as healthy even when nothing happened meanwhile. */
const HEALTHY_WATCH_MS = 5_000;

class StopSignal extends Error {}
class StaleSignal extends Error {}
class GoneSignal extends Error {}
/** A watch ERROR event other than 410. */
class WatchErrorEvent extends Error {
  constructor(readonly status: KubeApiError) {
    super(status.message, { cause: status });
  }
}

function randomBetween(min: number, max: number): number {
  return min + Math.random() * (max - min);
}

export class Informer<T extends KubeObject = KubeObject> {
  /** e.g. `configmaps` or `clusters.clusterforge.dev`, plus the namespace when there is one. */
  readonly name: string;
  readonly spec: Readonly<InformerSpec>;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly pageSize: number;
  private readonly staleAfterMs: number;
  private readonly watchTimeoutSeconds: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly onLoopEvent: ((event: InformerLoopEvent) => void) | undefined;
  private readonly path: string;

  private readonly cache = new IndexedStore<T>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private readonly syncWaiters = new Set<() => void>();
  private resourceVersion = '';
  private synced = false;
  private failures = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly stopController = new AbortController();
  private readonly counters: InformerStats = {
    lists: 0,
    relists: 0,
    pages: 0,
    watches: 0,
    gone: 0,
    staleAborts: 0,
    connectionErrors: 0,
    bookmarks: 0,
  };

  constructor(opts: InformerOptions) {
    this.spec = {
      group: opts.group,
      version: opts.version,
      plural: opts.plural,
      namespace: opts.namespace,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    };
    this.client = opts.client;
    const selectors = [opts.labelSelector, opts.fieldSelector].filter(Boolean).join(',');
    this.name = [
      `${opts.plural}${opts.group ? `.${opts.group}` : ''}`,
      opts.namespace ? ` in ${opts.namespace}` : '',
      selectors ? ` (${selectors})` : '',
    ].join('');
    this.log = (opts.log ?? silentLogger()).child({ informer: this.name });
    this.pageSize = opts.pageSize ?? 500;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 60;
    this.staleAfterMs = opts.staleAfterMs ?? (2 * this.watchTimeoutSeconds + 30) * 1000;
    this.backoffBaseMs = opts.backoffBaseMs ?? 250;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.onLoopEvent = opts.onLoopEvent;
    this.path = resourcePath(opts, { namespace: opts.namespace });
  }

  /** Starts the loop in the background (once). */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = this.run().catch((err: unknown) => {
      this.log.error({ err }, 'informer loop ended unexpectedly');
    });
  }

  /** Ends the loop and its watch; resolves once it has ended. The cache stays readable. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort(new StopSignal('informer stopped'));
    for (const resolve of this.syncWaiters) resolve();
    this.syncWaiters.clear();
    await this.running;
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

  get size(): number {
    return this.cache.size;
  }

  /** The resourceVersion the next watch starts from. */
  get lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.counters };
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

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopping) {
      if (needList) {
        try {
          await this.listAndReplace();
          needList = false;
        } catch (err) {
          if (this.stopping) return;
          this.failures++;
          const delay = this.backoff();
          this.log.warn({ err, retryInMs: Math.round(delay) }, 'list failed; retrying');
          await this.sleep(delay);
          continue;
        }
      }
      const outcome = await this.watchOnce();
      const healthy =
        outcome.progressed ||
        outcome.durationMs >=
          Math.min(HEALTHY_WATCH_MS, this.staleAfterMs / 2, this.watchTimeoutSeconds * 500);
      if (healthy) this.failures = 0;
      switch (outcome.kind) {
        case 'stopped':
          return;
        case 'closed':
          // The server ended the watch (its timeoutSeconds): watch again at once. A watch that ends
          // quickly with nothing in it counts as a failure, so that a server doing that does not get
          // a watch request in a tight loop.
          if (!healthy) {
            this.failures++;
            await this.sleep(this.backoff());
          }
          break;
        case 'gone': {
          this.counters.gone++;
          this.onLoopEvent?.('gone');
          this.failures++;
          needList = true;
          // The first relist after a 410 is immediate; a 410 again before anything arrived backs off.
          const delay = this.failures > 1 ? this.backoff() : 0;
          this.log.info(
            { resourceVersion: this.resourceVersion, relistInMs: Math.round(delay) },
            'watch expired; relisting',
          );
          await this.sleep(delay);
          break;
        }
        case 'stale': {
          this.counters.staleAborts++;
          this.onLoopEvent?.('stale');
          this.failures++;
          needList = true;
          const delay = this.failures > 1 ? this.backoff() : 0;
          this.log.warn({ staleAfterMs: this.staleAfterMs }, 'watch went silent; relisting');
          await this.sleep(delay);
          break;
        }
        case 'error': {
          this.counters.connectionErrors++;
          this.onLoopEvent?.('reconnect');
          this.failures++;
          // An ERROR event other than 410 in the stream, or a refusal of the watch request (4xx other
          // than 429), leaves us unsure of what we missed: relist, as client-go does. A dropped or refused
          // connection, 429 and 5xx only mean "not now": watch again from where we were.
          if (outcome.error instanceof WatchErrorEvent) needList = true;
          else if (outcome.error instanceof KubeApiError) {
            needList = outcome.error.code >= 400 && outcome.error.code < 500 && outcome.error.code !== 429;
          }
          const delay = this.backoff();
          this.log.warn({ err: outcome.error, retryInMs: Math.round(delay) }, 'watch failed; reconnecting');
          await this.sleep(delay);
          break;
        }
      }
    }
  }

  /** Full jittered exponential back-off for the current failure count: in [d/2, d], d = base * 2^(n-1). */
  private backoff(): number {
    const exp = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.max(0, this.failures - 1));
    return randomBetween(exp / 2, exp);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const signal = this.stopController.signal;
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async listAll(paginate: boolean): Promise<{ items: T[]; resourceVersion: string; kind?: string }> {
    const items: T[] = [];
    let resourceVersion = '';
    let kind: string | undefined;
    let cont: string | undefined;
    do {
      const page: ListPage<T> = await this.client.request<ListPage<T>>({
        method: 'GET',
        path: this.path,
        query: {
          limit: paginate ? this.pageSize : undefined,
          continue: cont,
          labelSelector: this.spec.labelSelector,
          fieldSelector: this.spec.fieldSelector,
        },
        signal: this.stopController.signal,
      });
      this.counters.pages++;
      // Every page is read at the first page's snapshot; its resourceVersion is the list's.
      if (!resourceVersion) resourceVersion = page.metadata?.resourceVersion ?? '';
      kind ??= page.kind;
      for (const item of page.items ?? []) items.push(item);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion, kind };
  }

  private async listAndReplace(): Promise<void> {
    let listed: Awaited<ReturnType<Informer<T>['listAll']>>;
    try {
      listed = await this.listAll(true);
    } catch (err) {
      // A continue token expired between pages (410): list again in one piece.
      if (!isGone(err) || this.stopping) throw err;
      this.log.info('list continue token expired; listing without pages');
      listed = await this.listAll(false);
    }
    // List items carry no apiVersion/kind; give them the list's so copies are complete objects.
    const apiVersion = this.spec.group ? `${this.spec.group}/${this.spec.version}` : this.spec.version;
    const kind = listed.kind?.endsWith('List') ? listed.kind.slice(0, -4) : undefined;
    const next = new Map<string, T>();
    for (const item of listed.items) {
      if (!item.apiVersion) item.apiVersion = apiVersion;
      if (!item.kind && kind) item.kind = kind;
      next.set(keyOf(item), stripManagedFields(item));
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
    this.resourceVersion = listed.resourceVersion;
    this.counters.lists++;
    const relist = this.counters.lists > 1;
    if (relist) this.counters.relists++;
    this.onLoopEvent?.(relist ? 'relist' : 'list');
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

  private async watchOnce(): Promise<WatchOutcome> {
    if (this.stopping) return { kind: 'stopped', progressed: false, durationMs: 0 };
    const started = Date.now();
    const abort = new AbortController();
    const onStop = (): void => abort.abort(new StopSignal('informer stopped'));
    this.stopController.signal.addEventListener('abort', onStop, { once: true });
    let progressed = false;
    let staleTimer: NodeJS.Timeout | undefined;
    const armStaleTimer = (): void => {
      if (staleTimer) clearTimeout(staleTimer);
      staleTimer = setTimeout(
        () => abort.abort(new StaleSignal(`nothing arrived for ${this.staleAfterMs} ms`)),
        this.staleAfterMs,
      );
    };
    armStaleTimer();
    const timeoutSeconds = Math.floor(randomBetween(this.watchTimeoutSeconds, 2 * this.watchTimeoutSeconds));
    try {
      await this.client.watch({
        path: this.path,
        query: {
          resourceVersion: this.resourceVersion || undefined,
          allowWatchBookmarks: 'true',
          timeoutSeconds,
          labelSelector: this.spec.labelSelector,
          fieldSelector: this.spec.fieldSelector,
        },
        signal: abort.signal,
        onOpen: () => {
          this.counters.watches++;
        },
        onEvent: (event) => {
          armStaleTimer();
          this.apply(event);
          progressed = true;
        },
      });
      return { kind: 'closed', progressed, durationMs: Date.now() - started };
    } catch (err) {
      const durationMs = Date.now() - started;
      if (err instanceof StopSignal || this.stopping) return { kind: 'stopped', progressed, durationMs };
      if (err instanceof StaleSignal) return { kind: 'stale', progressed, durationMs };
      if (err instanceof GoneSignal || isGone(err)) return { kind: 'gone', progressed, durationMs };
      return { kind: 'error', progressed, durationMs, error: err };
    } finally {
      if (staleTimer) clearTimeout(staleTimer);
      this.stopController.signal.removeEventListener('abort', onStop);
    }
  }

  /** Applies one watch event to the cache and tells the handlers. */
  private apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const err = watchStatusError(this.path, event.object);
      if (err.code === 410) throw new GoneSignal(err.message);
      throw new WatchErrorEvent(err);
    }
    const obj = stripManagedFields(event.object as T);
    const rv = obj.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      this.counters.bookmarks++;
      if (rv) this.resourceVersion = rv;
      return;
    }
    const key = keyOf(obj);
    const old = this.cache.get(key);
    if (rv) this.resourceVersion = rv;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED':
        this.cache.set(key, obj);
        if (old) this.emit('onUpdate', key);
        else this.emit('onAdd', key);
        break;
      case 'DELETED':
        this.cache.delete(key);
        this.emit('onDelete', key, old ?? obj);
        break;
      default:
        this.log.debug({ type: (event as { type?: string }).type }, 'ignoring a watch event of unknown type');
    }
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
