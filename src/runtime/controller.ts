// A controller: informers feed keys into a work queue; workers reconcile one key at a time.
//
// - The primary informer's adds, updates and deletes enqueue the object's own key.
// - A mapped watch turns a change of another kind into primary keys (a Machine into its Cluster).
// - The reconciler gets the key only and reads the object from the cache; whatever an event carried is
//   never handed to it.
// - Outcome of a reconcile: a result with requeueAfterMs -> reconcile again after that long (back-off
//   reset); a plain result -> done (back-off reset); TerminalError -> not requeued (back-off reset; the
//   reconciler records the reason in status); any other throw -> requeue with per-key back-off. A key
//   that failed only because the API server was unreachable goes back at once when the primary
//   informer reaches the server again (reconnect-retry.ts), whatever its back-off had grown to.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { isConflict, isTerminalError, isTransientError } from './errors.js';
import type { Informer, InformerHandler } from './informer.js';
import { silentLogger } from './log.js';
import { isUnreachableError } from './log-errors.js';
import { FailureLog } from './log-limiter.js';
import { defaultMetrics, type ReconcileResult, type RuntimeMetrics } from './metrics.js';
import { formatKey, type KubeObject, type ObjectKey, parseKey } from './object-key.js';
import { ReconnectRetry } from './reconnect-retry.js';
import { type Priority, WorkQueue, type WorkQueueOptions } from './workqueue.js';

export type { ObjectKey } from './object-key.js';

export interface Result {
  /** Reconcile this key again after this long (e.g. to look at a long provider operation again). */
  requeueAfterMs?: number;
}

export interface Reconciler {
  /**
   * Brings the world in line with the object `key` names, as the cache has it (it may be gone: then
   * clean up or return). `log` carries controller, namespace, name and reconcileID.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: an async reconcile that returns nothing means done.
  reconcile(key: ObjectKey, log: Logger): Promise<Result | undefined | void>;
}

/** From a watched object (its key, and the object as cached, or as last seen when deleted) to primary keys. */
export type MapFunc<T extends KubeObject = KubeObject> = (key: ObjectKey, obj: T) => ObjectKey[];

export interface MappedWatch<T extends KubeObject = KubeObject> {
  informer: Informer<T>;
  map: MapFunc<T>;
}

/** Says at reconcile start whether this process may reconcile a key now (sharding: src/runtime/shards.ts). */
export interface ReconcileGate {
  /** undefined: not ours at this moment, the key is dropped; else the function to call when it ends. */
  enter(key: ObjectKey): (() => void) | undefined;
}

export interface ControllerOptions<P extends KubeObject = KubeObject> {
  /** e.g. `cluster`; names the queue, the metrics and the log field `controller`. */
  name: string;
  /** The primary kind's informer. */
  for: Informer<P>;
  reconciler: Reconciler;
  // biome-ignore lint/suspicious/noExplicitAny: each watch has its own object type.
  watches?: Array<MappedWatch<any>>;
  /** Concurrent reconciles (of different keys). Default 2. */
  workers?: number;
  queue?: WorkQueueOptions;
  log?: Logger;
  metrics?: RuntimeMetrics;
  /** How long start() waits for the informers to sync before it gives up. Default: no limit. */
  syncTimeoutMs?: number;
  gate?: ReconcileGate;
}

/** A MapFunc to the object named by a label (e.g. `clusterforge.dev/cluster-name`) in the same namespace. */
export function mapByLabel(label: string): MapFunc {
  return (key, obj) => {
    const name = obj.metadata?.labels?.[label];
    return name ? [{ namespace: key.namespace, name }] : [];
  };
}

/** A MapFunc to the owner of a given kind (by ownerReferences), in the same namespace. */
export function mapToOwner(kind: string, apiGroup?: string): MapFunc {
  return (key, obj) => {
    return (obj.metadata?.ownerReferences ?? [])
      .filter(
        (ref) => ref.kind === kind && (apiGroup === undefined || ref.apiVersion?.split('/')[0] === apiGroup),
      )
      .filter((ref): ref is { name: string } => typeof ref.name === 'string')
      .map((ref) => ({ namespace: key.namespace, name: ref.name }));
  };
}

export class Controller<P extends KubeObject = KubeObject> {
  readonly name: string;
  readonly informer: Informer<P>;
  private readonly reconciler: Reconciler;
  // biome-ignore lint/suspicious/noExplicitAny: see ControllerOptions.watches.
  private readonly watches: Array<MappedWatch<any>>;
  private readonly workers: number;
  private readonly queueOptions: WorkQueueOptions;
  private readonly log: Logger;
  private readonly failureLog: FailureLog;
  private readonly metrics: RuntimeMetrics;
  private readonly syncTimeoutMs: number | undefined;
  private readonly gate: ReconcileGate | undefined;

  private queue: WorkQueue | undefined;
  private unsubscribe: Array<() => void> = [];
  private untrackQueue: (() => void) | undefined;
  private reconnectRetry: ReconnectRetry | undefined;
  private running: Promise<void> | undefined;
  private abortStart: AbortController | undefined;

  constructor(opts: ControllerOptions<P>) {
    this.name = opts.name;
    this.informer = opts.for;
    this.reconciler = opts.reconciler;
    this.watches = opts.watches ?? [];
    this.workers = opts.workers ?? 2;
    this.queueOptions = opts.queue ?? {};
    this.log = (opts.log ?? silentLogger()).child({ controller: this.name });
    this.failureLog = new FailureLog(this.log);
    this.metrics = opts.metrics ?? defaultMetrics();
    this.syncTimeoutMs = opts.syncTimeoutMs;
    this.gate = opts.gate;
  }

  /** The informers this controller reads (primary first). */
  informers(): Informer<KubeObject>[] {
    return [this.informer as unknown as Informer<KubeObject>, ...this.watches.map((w) => w.informer)];
  }

  isRunning(): boolean {
    return this.running !== undefined;
  }

  /**
   * Subscribes to the informers, waits for them to sync, then runs the workers in the background.
   * Resolves once the workers run. May be called again after stop().
   */
  async start(): Promise<void> {
    if (this.running) return;
    const queue = new WorkQueue(this.queueOptions);
    this.queue = queue;
    this.untrackQueue = this.metrics.trackQueue(this.name, queue);
    this.reconnectRetry = new ReconnectRetry(
      () => this.informer.stats,
      (key) => {
        queue.forget(key);
        queue.add(key);
      },
    );
    // What the first list brings is a start-up look, behind any change made since (see workqueue.ts).
    const atStart = (initialList: boolean): Priority => (initialList ? 'low' : 'high');
    const enqueue = (key: ObjectKey, priority: Priority): void =>
      queue.add(formatKey(key.namespace, key.name), priority);
    const primary: InformerHandler<P> = {
      onAdd: (key, initialList) => queue.add(key, atStart(initialList)),
      onUpdate: (key) => queue.add(key),
      onDelete: (key) => queue.add(key),
    };
    this.unsubscribe.push(this.informer.addHandler(primary));
    for (const watch of this.watches) {
      const mapped = (key: string, obj: KubeObject | undefined, priority: Priority = 'high'): void => {
        if (!obj) return;
        try {
          for (const target of watch.map(parseKey(key), obj)) enqueue(target, priority);
        } catch (err) {
          this.log.error({ err, key, watch: watch.informer.name }, 'watch mapping function threw');
        }
      };
      this.unsubscribe.push(
        watch.informer.addHandler({
          onAdd: (key, initialList) => mapped(key, watch.informer.getByKey(key), atStart(initialList)),
          onUpdate: (key) => mapped(key, watch.informer.getByKey(key)),
          onDelete: (key, last) => mapped(key, last),
        }),
      );
    }
    this.running = queue.run(this.workers, (key) => this.process(queue, key));
    this.abortStart = new AbortController();
    const signal = this.abortStart.signal;
    try {
      await Promise.all(
        this.informers().map((informer) => informer.waitForSync({ signal, timeoutMs: this.syncTimeoutMs })),
      );
    } catch (err) {
      if (signal.aborted) return;
      await this.stop();
      throw err;
    }
    this.log.info({ workers: this.workers }, 'controller started');
  }

  /** Stops taking keys, waits for the reconciles in flight, and unsubscribes. */
  async stop(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.abortStart?.abort();
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    await queue.shutDown({ dropQueued: true });
    await this.running;
    this.untrackQueue?.();
    this.reconnectRetry?.stop();
    this.queue = undefined;
    this.running = undefined;
    this.log.info('controller stopped');
  }

  /** Queues a key by hand (e.g. from a timer or another controller). Ignored while stopped. */
  enqueue(key: ObjectKey): void {
    this.queue?.add(formatKey(key.namespace, key.name));
  }

  /** Keys ready to be reconciled. */
  queueLength(): number {
    return this.queue?.len() ?? 0;
  }

  private async process(queue: WorkQueue, key: string): Promise<void> {
    // Keys queued before the informers synced wait here: reconciling from a half-filled cache could
    // mistake an object for deleted.
    if (!this.informers().every((informer) => informer.hasSynced())) {
      queue.addAfter(key, 100);
      return;
    }
    const objectKey = parseKey(key);
    const exit = this.gate ? this.gate.enter(objectKey) : () => {};
    if (!exit) {
      // Another replica owns it now; whoever owns it got it from its cache when it took the shard.
      queue.forget(key);
      return;
    }
    try {
      await this.reconcileOnce(queue, key, objectKey);
    } finally {
      exit();
    }
  }

  private async reconcileOnce(queue: WorkQueue, key: string, objectKey: ObjectKey): Promise<void> {
    const reconcileID = randomUUID();
    const about = { namespace: objectKey.namespace, name: objectKey.name, reconcileID };
    const log = this.log.child(about);
    const started = performance.now();
    let result: ReconcileResult;
    try {
      const res = await this.reconciler.reconcile(objectKey, log);
      queue.forget(key);
      this.reconnectRetry?.settled(key);
      this.failureLog.recovered('reconciled after failures', about, key);
      const after = res?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        queue.addAfter(key, after);
        result = 'requeue';
      } else {
        result = 'success';
      }
    } catch (err) {
      // Failures are rate-limited per object, except that an unreachable API server is one failure of the
      // whole controller however many objects see it (src/runtime/log-limiter.ts).
      const unreachable = isUnreachableError(err);
      const failureKey = unreachable ? '' : key;
      if (unreachable) this.reconnectRetry?.unreachable(key);
      else this.reconnectRetry?.settled(key);
      if (isTerminalError(err)) {
        queue.forget(key);
        result = 'terminal';
        this.failureLog.error(
          { ...about, err, reason: err.reason },
          'reconcile failed; not retrying',
          failureKey,
        );
      } else if (isConflict(err)) {
        // Someone wrote the object since our cache saw it (often our own status write): an expected
        // race, not a failure. Look again once the cache has caught up.
        result = 'requeue';
        queue.addRateLimited(key);
        log.debug({ err }, 'conflict; reconciling again from a fresher cache');
      } else {
        result = 'error';
        this.metrics.queueRetries.inc({ name: this.name });
        if (isTransientError(err) && err.requeueAfterMs !== undefined) {
          queue.addAfter(key, err.requeueAfterMs);
          const fields = { ...about, err, retryInMs: err.requeueAfterMs };
          this.failureLog.warn(fields, 'reconcile failed; retrying', failureKey);
        } else {
          queue.addRateLimited(key);
          const fields = { ...about, err, retries: queue.numRequeues(key) };
          const msg = 'reconcile failed; retrying with back-off';
          if (isTransientError(err) || unreachable) this.failureLog.warn(fields, msg, failureKey);
          else this.failureLog.error(fields, msg, failureKey);
        }
      }
    }
    const durationMs = performance.now() - started;
    this.metrics.observeReconcile(this.name, result, durationMs);
    log.debug({ result, durationMs: Math.round(durationMs) }, 'reconciled');
  }
}
