// Leader election on a coordination.k8s.io/v1 Lease.
//
// The Lease's spec is the record: holderIdentity, leaseDurationSeconds, acquireTime, renewTime,
// leaseTransitions. Every write is a PUT (or the first POST) carrying the resourceVersion we read, so two
// candidates never both win one round: the loser gets 409 Conflict.
//
// A candidate judges expiry by its own clock: it notes when it last saw the record change, and takes the
// lease over once leaseDurationSeconds have passed since then without a change. Clocks of different
// machines never get compared (renewTime is informative only).
//
// The leader renews every renewIntervalMs (default a third of the lease duration). When it has not managed
// to renew for renewDeadlineMs (default two thirds), it stops leading (onStoppedLeading) before its lease
// can expire, and becomes a candidate again. On stop() it releases the lease (empty holder) so that a
// successor takes over at its next try instead of waiting for expiry.
import type { Logger } from 'pino';
import { isConflict, isNotFound } from './errors.js';
import { silentLogger } from './log.js';
import { FailureLog } from './log-limiter.js';
import { type KubeClient, resourcePath } from './transport.js';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string; [field: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  /** The Lease's name, e.g. `clusterforge-controller-manager`. */
  name: string;
  /** This candidate's identity (unique per process: hostname + random suffix). */
  identity: string;
  /** Default 15. */
  leaseDurationSeconds?: number;
  /** How often the leader renews. Default: a third of the lease duration. */
  renewIntervalMs?: number;
  /** The leader gives up after failing to renew for this long. Default: two thirds of the lease duration. */
  renewDeadlineMs?: number;
  /** How often a candidate tries to acquire. Default: a fifth of the lease duration (at least 1 s). */
  retryIntervalMs?: number;
  log?: Logger;
  /** Called when this candidate becomes the leader. */
  onStartedLeading?: () => void | Promise<void>;
  /** Called when it stops being the leader (lost the lease, or stop()). Awaited before the lease is released. */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
  /** Asked before taking a free or expired lease (never before renewing ours): false waits a round. */
  mayAcquire?: () => boolean;
  /** Labels of the Lease when this candidate creates it (so a set of leases can be listed). */
  labels?: Record<string, string>;
}

/** A Lease time: RFC 3339 with microseconds (metav1.MicroTime). */
export function microTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  readonly identity: string;
  private readonly client: KubeClient;
  private readonly namespace: string;
  private readonly name: string;
  private readonly leaseDurationSeconds: number;
  private readonly renewIntervalMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryIntervalMs: number;
  private readonly log: Logger;
  /** A candidate that is not the leader retries every few seconds: its failures are rate-limited. */
  private readonly failureLog: FailureLog;
  private readonly opts: LeaderElectionOptions;
  private readonly path: string;

  /** onStartedLeading was called (and onStoppedLeading not yet). */
  private leading = false;
  /** The lease's holder is us, as far as our last write knows. */
  private holding = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly wake = new AbortController();
  /** The record last read, and when (by our clock) it last changed. */
  private observed: { json: string; holder: string; at: number } | undefined;
  private lastRenewAt = 0;
  private currentLeader = '';
  private leaseResourceVersion: string | undefined;

  constructor(opts: LeaderElectionOptions) {
    this.opts = opts;
    this.client = opts.client;
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.identity;
    this.leaseDurationSeconds = opts.leaseDurationSeconds ?? 15;
    const durationMs = this.leaseDurationSeconds * 1000;
    this.renewIntervalMs = opts.renewIntervalMs ?? Math.round(durationMs / 3);
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.round((durationMs * 2) / 3);
    this.retryIntervalMs = opts.retryIntervalMs ?? Math.max(1000, Math.round(durationMs / 5));
    if (this.renewDeadlineMs >= durationMs)
      throw new Error('renewDeadlineMs must be shorter than the lease duration');
    this.log = (opts.log ?? silentLogger()).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: opts.identity,
    });
    this.failureLog = new FailureLog(this.log);
    this.path = resourcePath(LEASES, { namespace: opts.namespace });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed ('' when none). */
  leader(): string {
    return this.currentLeader;
  }

  /** Starts campaigning in the background (once). */
  start(): void {
    if (this.loop || this.stopping) return;
    this.loop = this.run().catch((err: unknown) =>
      this.log.error({ err }, 'leader election loop ended unexpectedly'),
    );
  }

  /**
   * Stops campaigning. A leader calls onStoppedLeading (and waits for it), then, with `release` (default
   * true), empties the lease's holder so a successor takes over at once. `release: false` leaves the lease
   * to expire, as a crashed process would.
   */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.stopping) {
      await this.loop;
      return;
    }
    this.stopping = true;
    this.wake.abort();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.callStopped();
    }
    // Also when a round was won during stop(): the lease is ours although we never started leading.
    if (this.holding && (opts.release ?? true)) await this.release();
    this.holding = false;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!this.leading) {
        const acquired = (await this.tryAcquireOrRenew()) === 'ok';
        // Won a round while stopping: stop() sees `holding` and releases.
        if (this.stopping) return;
        if (acquired) {
          this.leading = true;
          this.log.info('became the leader');
          try {
            await this.opts.onStartedLeading?.();
          } catch (err) {
            this.log.error({ err }, 'onStartedLeading threw');
          }
          continue;
        }
        await this.sleep(this.retryIntervalMs * (1 + Math.random() * 0.2));
        continue;
      }
      const sinceRenew = Date.now() - this.lastRenewAt;
      await this.sleep(Math.max(0, Math.min(this.renewIntervalMs, this.renewDeadlineMs) - sinceRenew));
      if (this.stopping) return;
      const renewed = await this.tryAcquireOrRenew();
      if (this.stopping) return;
      if (renewed === 'ok') continue;
      const heldByOther = renewed === 'held';
      if (heldByOther || Date.now() - this.lastRenewAt >= this.renewDeadlineMs) {
        this.leading = false;
        this.holding = false;
        if (heldByOther)
          this.log.warn({ leader: this.currentLeader }, 'another candidate holds the lease; stopped leading');
        else
          this.log.warn(
            { renewDeadlineMs: this.renewDeadlineMs },
            'could not renew the lease in time; stopped leading',
          );
        await this.callStopped();
        continue;
      }
      // Renewal failed but the deadline is not reached: try again soon.
      await this.sleep(Math.min(this.retryIntervalMs, this.renewIntervalMs / 2));
    }
  }

  private async callStopped(): Promise<void> {
    try {
      await this.opts.onStoppedLeading?.();
    } catch (err) {
      this.log.error({ err }, 'onStoppedLeading threw');
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.wake.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake.signal.removeEventListener('abort', onWake);
        resolve();
      }, ms);
      const onWake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.wake.signal.addEventListener('abort', onWake, { once: true });
    });
  }

  private noteLeader(holder: string): void {
    if (holder === this.currentLeader) return;
    this.currentLeader = holder;
    if (holder) this.log.info({ leader: holder }, 'new leader observed');
    try {
      if (holder) this.opts.onNewLeader?.(holder);
    } catch (err) {
      this.log.error({ err }, 'onNewLeader threw');
    }
  }

  /** One round: create the lease, renew ours, or take over an expired or released one. */
  private async tryAcquireOrRenew(): Promise<'ok' | 'held' | 'failed'> {
    const now = new Date();
    // A round must end well within the renew deadline; the request may not hang longer than that.
    const timeoutMs = Math.max(1000, Math.min(this.renewDeadlineMs / 2, 10_000));
    let lease: Lease;
    try {
      lease = await this.client.request<Lease>({
        method: 'GET',
        path: `${this.path}/${this.name}`,
        timeoutMs,
      });
    } catch (err) {
      if (!isNotFound(err)) {
        this.failureLog.warn({ err }, 'could not read the lease');
        return 'failed';
      }
      if (this.opts.mayAcquire?.() === false) return 'held';
      return this.create(now, timeoutMs);
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const json = JSON.stringify(spec);
    if (!this.observed || this.observed.json !== json) this.observed = { json, holder, at: Date.now() };
    this.noteLeader(holder);
    const durationMs = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== this.identity && this.observed.at + durationMs > Date.now()) {
      this.failureLog.recovered('reached the lease again after failures');
      return 'held';
    }

    const ours = holder === this.identity;
    if (!ours && this.opts.mayAcquire?.() === false) return 'held';
    const next: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: this.leaseDurationSeconds,
      acquireTime: ours && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
    };
    try {
      const updated = await this.client.request<Lease>({
        method: 'PUT',
        path: `${this.path}/${this.name}`,
        body: { ...lease, spec: next },
        timeoutMs,
      });
      this.accept(updated, now);
      if (!ours)
        this.log.info(
          { previous: holder || undefined, transitions: next.leaseTransitions },
          'acquired the lease',
        );
      return 'ok';
    } catch (err) {
      if (isConflict(err)) this.log.debug('lost a lease update race');
      else this.failureLog.warn({ err }, 'could not update the lease');
      return 'failed';
    }
  }

  private async create(now: Date, timeoutMs: number): Promise<'ok' | 'failed'> {
    try {
      const created = await this.client.request<Lease>({
        method: 'POST',
        path: this.path,
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.name,
            namespace: this.namespace,
            ...(this.opts.labels ? { labels: this.opts.labels } : {}),
          },
          spec: {
            holderIdentity: this.identity,
            leaseDurationSeconds: this.leaseDurationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        },
        timeoutMs,
      });
      this.accept(created, now);
      this.log.info('created and acquired the lease');
      return 'ok';
    } catch (err) {
      if (isConflict(err)) this.log.debug('another candidate created the lease first');
      else this.failureLog.warn({ err }, 'could not create the lease');
      return 'failed';
    }
  }

  private accept(lease: Lease, at: Date): void {
    this.failureLog.recovered('reached the lease again after failures');
    this.lastRenewAt = at.getTime();
    this.holding = true;
    this.leaseResourceVersion = lease.metadata.resourceVersion;
    this.observed = { json: JSON.stringify(lease.spec ?? {}), holder: this.identity, at: Date.now() };
    this.noteLeader(this.identity);
  }

  /** Empties the holder (if still ours) so the next candidate need not wait for expiry. */
  private async release(): Promise<void> {
    try {
      const lease = await this.client.request<Lease>({
        method: 'GET',
        path: `${this.path}/${this.name}`,
        timeoutMs: 5000,
      });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime();
      await this.client.request<Lease>({
        method: 'PUT',
        path: `${this.path}/${this.name}`,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
          },
        },
        timeoutMs: 5000,
      });
      this.log.info({ resourceVersion: this.leaseResourceVersion }, 'released the lease');
    } catch (err) {
      this.log.warn({ err }, 'could not release the lease; a successor waits for it to expire');
    }
  }
}
