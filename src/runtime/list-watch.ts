// The list-and-watch loop of one informer: it talks to the API server, and hands what it learns to the
// informer's cache (a ListWatchTarget).
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
import type { Logger } from 'pino';
import { isGone, KubeApiError } from './errors.js';
import { FailureLog } from './log-limiter.js';
import type { KubeObject } from './object-key.js';
import { type KubeClient, type WatchEvent, watchStatusError } from './transport.js';

/** How the loop pages, times its watches and backs off; every field has a default. */
export interface ListWatchTuning {
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

/** Where the loop puts what it learns: the informer's cache. */
export interface ListWatchTarget<T> {
  /** A full list: the cache becomes exactly `items`. `listKind` is the list's kind (`ConfigMapList`). */
  replace(items: T[], listKind: string | undefined, relist: boolean): void;
  /** One ADDED, MODIFIED or DELETED event (ERROR and BOOKMARK events stay in the loop). */
  apply(event: WatchEvent): void;
}

export interface ListWatchOptions extends ListWatchTuning {
  client: KubeClient;
  log: Logger;
  /** The collection's path (resourcePath). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
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

/**
 * The longest wait before asking again a server that did not answer at all (refused or dropped the
 * connection). Asking costs such a server nothing, and informers are back within seconds of the end
 * of an outage; a server that answers 429 or 5xx gets the full back-off.
 */
const UNREACHABLE_MAX_MS = 3_000;

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

export class ListWatchLoop<T extends KubeObject> {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly failureLog: FailureLog;
  private readonly path: string;
  private readonly selectors: { labelSelector?: string; fieldSelector?: string };
  private readonly pageSize: number;
  private readonly staleAfterMs: number;
  private readonly watchTimeoutSeconds: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly onLoopEvent: ((event: InformerLoopEvent) => void) | undefined;

  /** The resourceVersion the next watch starts from. */
  resourceVersion = '';
  private failures = 0;
  /** Relists in a row that were followed by nothing: the second and later back off. */
  private fruitlessRelists = 0;
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

  constructor(
    opts: ListWatchOptions,
    private readonly target: ListWatchTarget<T>,
  ) {
    this.client = opts.client;
    this.log = opts.log;
    this.failureLog = new FailureLog(opts.log);
    this.path = opts.path;
    this.selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
    this.pageSize = opts.pageSize ?? 500;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 60;
    this.staleAfterMs = opts.staleAfterMs ?? (2 * this.watchTimeoutSeconds + 30) * 1000;
    this.backoffBaseMs = opts.backoffBaseMs ?? 250;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
    this.onLoopEvent = opts.onLoopEvent;
  }

  get stats(): Readonly<InformerStats> {
    return { ...this.counters };
  }

  /** Starts the loop in the background (once). */
  start(): void {
    if (this.running || this.stopping) return;
    this.running = this.run().catch((err: unknown) => {
      this.log.error({ err }, 'informer loop ended unexpectedly');
    });
  }

  /** Ends the loop and its watch; resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopController.abort(new StopSignal('informer stopped'));
    await this.running;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopping) {
      if (needList) {
        try {
          await this.listAndReplace();
          needList = false;
          this.failureLog.recovered('listed again after failures');
        } catch (err) {
          if (this.stopping) return;
          this.failures++;
          const delay = this.backoff(err);
          this.failureLog.warn({ err, retryInMs: Math.round(delay) }, 'list failed; retrying');
          await this.sleep(delay);
          continue;
        }
      }
      const outcome = await this.watchOnce();
      const healthy =
        outcome.progressed ||
        outcome.durationMs >=
          Math.min(HEALTHY_WATCH_MS, this.staleAfterMs / 2, this.watchTimeoutSeconds * 500);
      if (healthy) {
        this.failureLog.recovered('watching again after failures');
        this.failures = 0;
        this.fruitlessRelists = 0;
      }
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
        case 'gone':
        case 'stale': {
          // Events may have been missed (410), or the connection died silently: relist. The first relist
          // is immediate, even after an outage's failed reconnects (a new API server answers the old
          // resourceVersion with 410); another before anything arrived backs off.
          this.counters[outcome.kind === 'gone' ? 'gone' : 'staleAborts']++;
          this.onLoopEvent?.(outcome.kind);
          this.failures++;
          this.fruitlessRelists++;
          needList = true;
          const delay = this.fruitlessRelists > 1 ? this.backoff() : 0;
          if (outcome.kind === 'gone') {
            this.log.info(
              { resourceVersion: this.resourceVersion, relistInMs: Math.round(delay) },
              'watch expired; relisting',
            );
          } else this.log.warn({ staleAfterMs: this.staleAfterMs }, 'watch went silent; relisting');
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
          const delay = Math.round(this.backoff(outcome.error));
          this.failureLog.warn({ err: outcome.error, retryInMs: delay }, 'watch failed; reconnecting');
          await this.sleep(delay);
          break;
        }
      }
    }
  }

  /**
   * Full jittered exponential back-off for the current failure count: in [d/2, d], d = base * 2^(n-1),
   * at most UNREACHABLE_MAX_MS when `err` says the server did not answer at all.
   */
  private backoff(err?: unknown): number {
    let exp = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.max(0, this.failures - 1));
    const answered = err instanceof KubeApiError || err instanceof WatchErrorEvent;
    if (err !== undefined && !answered) exp = Math.min(exp, UNREACHABLE_MAX_MS);
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
        query: { limit: paginate ? this.pageSize : undefined, continue: cont, ...this.selectors },
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
    let listed: Awaited<ReturnType<ListWatchLoop<T>['listAll']>>;
    try {
      listed = await this.listAll(true);
    } catch (err) {
      // A continue token expired between pages (410): list again in one piece.
      if (!isGone(err) || this.stopping) throw err;
      this.log.info('list continue token expired; listing without pages');
      listed = await this.listAll(false);
    }
    this.resourceVersion = listed.resourceVersion;
    this.counters.lists++;
    const relist = this.counters.lists > 1;
    if (relist) this.counters.relists++;
    this.onLoopEvent?.(relist ? 'relist' : 'list');
    this.target.replace(listed.items, listed.kind, relist);
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
          ...this.selectors,
        },
        signal: abort.signal,
        onOpen: () => {
          this.counters.watches++;
        },
        onEvent: (event) => {
          armStaleTimer();
          this.receive(event);
          if (!progressed) this.failureLog.recovered('watching again after failures');
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

  /** One watch event: an ERROR ends the watch, a BOOKMARK moves the resourceVersion, the rest go to the cache. */
  private receive(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const err = watchStatusError(this.path, event.object);
      if (err.code === 410) throw new GoneSignal(err.message);
      throw new WatchErrorEvent(err);
    }
    const rv = (event.object as KubeObject).metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') this.counters.bookmarks++;
    if (rv) this.resourceVersion = rv;
    if (event.type !== 'BOOKMARK') this.target.apply(event);
  }
}
