// Sharding across replicas (`--shards N`): the clusters are split into N shards by hash (shard-hash.ts), and
// each shard is owned through one coordination.k8s.io Lease, `<prefix>-<i>`, won and renewed by the
// LeaderElector of leader-election.ts (one per shard). Nothing else coordinates the replicas.
//
// Spreading: every replica also keeps a Lease of its own, `<prefix>-member-<id>` (labelled, so they can be
// listed), renewed like any other. A replica counts as the live replicas R the member Leases that changed
// lately (within the renew deadline, or a renew interval and two looks; at most the lease duration), itself
// included, and holds at most ceil(N / R) shards: its electors ask before taking a free or expired shard,
// and shards above that share are released (the in-flight reconciles of the shard finish first). While a
// live replica holds fewer than floor(N / R) (read from the shard Leases' holders), the others hold no more
// than that floor and take nothing, so a replica that joins gets its share within a few rounds.
// A replica killed with -9 stops renewing: its member Lease goes stale, the survivors' share grows, and its
// shard Leases expire, so they move to the survivors within the lease duration. Only its shards move.
//
// The gate: a reconcile enters a shard (enter()) only while the shard's Lease is held, and losing a shard
// waits for the reconciles inside it before the Lease is released or left to expire.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { isNotFound } from './errors.js';
import { LeaderElector } from './leader-election.js';
import { silentLogger } from './log.js';
import { FailureLog } from './log-limiter.js';
import type { RuntimeMetrics } from './metrics.js';
import { type KubeClient, resourcePath } from './transport.js';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
/**
 * The labels of the Leases, each with the lease prefix as value (two operators in one namespace do not
 * mix): `member` on the replicas' Leases, `lease` on the shards', `set` on both, so one LIST reads them all.
 */
export const SHARD_LABELS = {
  member: 'clusterforge.dev/shard-member',
  lease: 'clusterforge.dev/shard-lease',
  set: 'clusterforge.dev/shard-set',
} as const;

export interface ShardConfig {
  /** How many shards (at least 2; 1 means no sharding and no ShardSet). */
  shards: number;
  /** Namespace of the Leases (the leader-election namespace). */
  namespace: string;
  /** Default `clusterforge-shard`: Leases `<prefix>-0` .. `<prefix>-<N-1>` and `<prefix>-member-<id>`. */
  prefix?: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  renewDeadlineMs?: number;
  retryIntervalMs?: number;
}

export interface ShardSetOptions extends ShardConfig {
  client: KubeClient;
  identity: string;
  log?: Logger;
  metrics?: RuntimeMetrics;
}

interface MemberSeen {
  resourceVersion: string;
  holder: string;
  /** By our clock, when the record last changed. */
  at: number;
}

export class ShardSet {
  readonly count: number;
  readonly identity: string;
  private readonly opts: ShardSetOptions;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly failureLog: FailureLog;
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryIntervalMs: number;
  /** A member Lease unchanged for this long is a dead replica's. */
  private readonly memberWindowMs: number;
  private readonly electors: (LeaderElector | undefined)[];
  private readonly member: LeaderElector;
  private readonly held = new Set<number>();
  /** Shards being released: their electors are stopping. */
  private readonly releasing = new Set<number>();
  private readonly inFlight: number[];
  private readonly drained: Array<Array<() => void>>;
  private readonly members = new Map<string, MemberSeen>();
  private readonly gained: Array<(shard: number) => void> = [];
  private alive = 1;
  /** A live replica holds fewer than floor(N / R) shards (from the last list). */
  private needy = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(opts: ShardSetOptions) {
    if (!Number.isInteger(opts.shards) || opts.shards < 2)
      throw new Error('a ShardSet needs 2 shards or more');
    this.opts = opts;
    this.count = opts.shards;
    this.identity = opts.identity;
    this.prefix = opts.prefix ?? 'clusterforge-shard';
    this.log = (opts.log ?? silentLogger()).child({ shards: this.count });
    this.failureLog = new FailureLog(this.log);
    this.durationMs = (opts.leaseDurationSeconds ?? 15) * 1000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.round((this.durationMs * 2) / 3);
    this.retryIntervalMs = opts.retryIntervalMs ?? Math.max(1000, Math.round(this.durationMs / 5));
    // A live member changes every renew interval; we look every retry period: allow two looks of lag.
    const renewMs = Math.min(opts.renewIntervalMs ?? Math.round(this.durationMs / 3), this.renewDeadlineMs);
    this.memberWindowMs = Math.min(
      this.durationMs,
      Math.max(this.renewDeadlineMs, renewMs + 2 * this.retryIntervalMs),
    );
    this.electors = new Array(this.count).fill(undefined);
    this.inFlight = new Array(this.count).fill(0);
    this.drained = Array.from({ length: this.count }, () => []);
    const id = createHash('sha256').update(opts.identity).digest('hex').slice(0, 12);
    this.member = this.elector(`${this.prefix}-member-${id}`, {
      [SHARD_LABELS.member]: this.prefix,
      [SHARD_LABELS.set]: this.prefix,
    });
  }

  /** The shards held now, ascending. */
  heldShards(): number[] {
    return [...this.held].sort((a, b) => a - b);
  }

  holds(shard: number): boolean {
    return this.held.has(shard);
  }

  /** The most shards this replica takes: ceil(N / live replicas). */
  share(): number {
    return Math.ceil(this.count / Math.max(1, this.alive));
  }

  /** Called with each shard this replica wins (to enqueue that shard's objects from the caches). */
  onGained(fn: (shard: number) => void): void {
    this.gained.push(fn);
  }

  /**
   * A reconcile of a key of `shard` starts: undefined if the shard is not held now (drop the key), else the
   * function to call when it ends. A shard is not given up while reconciles are inside it.
   */
  enter(shard: number): (() => void) | undefined {
    if (!this.held.has(shard)) return undefined;
    this.inFlight[shard]! += 1;
    return () => {
      this.inFlight[shard]! -= 1;
      if (this.inFlight[shard] === 0) for (const resolve of this.drained[shard]!.splice(0)) resolve();
    };
  }

  /** Starts the member Lease, then (after the first look at the other replicas) the shard electors. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.member.start();
    const loop = (): void => {
      this.ticking = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.retryIntervalMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Releases every shard (after its reconciles end; `release: false` leaves the Leases to expire). */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.all(this.electors.map((e) => e?.stop(opts)));
    await this.member.stop(opts);
  }

  private elector(name: string, labels: Record<string, string>, shard?: number): LeaderElector {
    const o = this.opts;
    return new LeaderElector({
      client: o.client,
      namespace: o.namespace,
      name,
      identity: o.identity,
      leaseDurationSeconds: o.leaseDurationSeconds,
      renewIntervalMs: o.renewIntervalMs,
      renewDeadlineMs: o.renewDeadlineMs,
      retryIntervalMs: o.retryIntervalMs,
      labels,
      log: this.log,
      ...(shard === undefined
        ? {}
        : {
            // Below our share, and not at the floor while a live replica is below it (that one goes first).
            mayAcquire: () =>
              !this.stopped &&
              this.held.size < this.share() &&
              !(this.needy && this.held.size >= this.floor()),
            onStartedLeading: () => this.won(shard),
            onStoppedLeading: () => this.lost(shard),
          }),
    });
  }

  private campaign(shard: number): void {
    const elector = this.elector(
      `${this.prefix}-${shard}`,
      {
        [SHARD_LABELS.lease]: this.prefix,
        [SHARD_LABELS.set]: this.prefix,
      },
      shard,
    );
    this.electors[shard] = elector;
    elector.start();
  }

  private won(shard: number): void {
    this.held.add(shard);
    this.opts.metrics?.shardsHeld.set(this.held.size);
    this.log.info({ shard, held: this.heldShards() }, 'acquired a shard');
    for (const fn of this.gained) {
      try {
        fn(shard);
      } catch (err) {
        this.log.error({ err, shard }, 'a shard-gained handler threw');
      }
    }
  }

  /** Closes the gate of the shard at once, then waits for the reconciles still inside it. */
  private async lost(shard: number): Promise<void> {
    this.held.delete(shard);
    this.opts.metrics?.shardsHeld.set(this.held.size);
    if (this.inFlight[shard]! > 0) await new Promise<void>((resolve) => this.drained[shard]!.push(resolve));
    this.log.info({ shard, held: this.heldShards() }, 'gave up a shard');
  }

  /** One round: count the live replicas, then campaign for the shards, or release those above our share. */
  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.lookAround();
    if (this.stopped) return;
    for (let shard = 0; shard < this.count; shard++) if (!this.electors[shard]) this.campaign(shard);
    // Above our share; or above the floor while a live replica is below it (one at a time: the others do too).
    const excess = Math.max(
      this.held.size - this.share(),
      this.needy && this.held.size > this.floor() ? 1 : 0,
    );
    if (excess <= 0) return;
    const give = this.heldShards()
      .filter((s) => !this.releasing.has(s))
      .slice(-excess);
    for (const shard of give) {
      this.releasing.add(shard);
      this.log.info(
        { shard, share: this.share(), replicas: this.alive },
        'releasing a shard to even the shares',
      );
      // Its elector starts again as a candidate once the Lease is released.
      void this.electors[shard]!.stop({ release: true }).finally(() => {
        this.releasing.delete(shard);
        if (!this.stopped) this.campaign(shard);
      });
    }
  }

  /** floor(N / live replicas): what every replica should hold at least, when there are enough shards. */
  private floor(): number {
    return Math.floor(this.count / Math.max(1, this.alive));
  }

  /** Lists the member and shard Leases: who is alive, and whether one of them holds fewer than the floor. */
  private async lookAround(): Promise<void> {
    const path = resourcePath(LEASES, { namespace: this.opts.namespace });
    let items: Array<{
      metadata: { name: string; resourceVersion: string; labels?: Record<string, string> };
      spec?: { holderIdentity?: string };
    }>;
    try {
      const list = await this.opts.client.request<{ items: typeof items }>({
        method: 'GET',
        path,
        query: { labelSelector: `${SHARD_LABELS.set}=${this.prefix}` },
        timeoutMs: Math.max(1000, Math.min(this.renewDeadlineMs / 2, 10_000)),
      });
      items = list.items;
      this.failureLog.recovered('listed the replicas again after failures');
    } catch (err) {
      this.failureLog.warn({ err }, 'could not list the replicas; keeping the last count');
      return;
    }
    const now = Date.now();
    const live = new Set<string>([this.identity]);
    const names = new Set<string>();
    const holding = new Map<string, number>();
    for (const lease of items) {
      const { name, resourceVersion, labels } = lease.metadata;
      const holder = lease.spec?.holderIdentity ?? '';
      if (labels?.[SHARD_LABELS.member] === undefined) {
        if (holder) holding.set(holder, (holding.get(holder) ?? 0) + 1);
        continue;
      }
      names.add(name);
      const seen = this.members.get(name);
      if (!seen || seen.resourceVersion !== resourceVersion) {
        this.members.set(name, { resourceVersion, holder, at: now });
      } else if (holder && now - seen.at > 3 * this.durationMs && holder !== this.identity) {
        // A replica gone for good (killed): remove its record so the list does not grow forever.
        await this.forget(`${path}/${name}`, resourceVersion);
      }
      const current = this.members.get(name)!;
      if (current.holder && now - current.at < this.memberWindowMs) live.add(current.holder);
    }
    for (const name of this.members.keys()) if (!names.has(name)) this.members.delete(name);
    if (live.size !== this.alive) {
      this.log.info({ replicas: live.size, share: Math.ceil(this.count / live.size) }, 'replicas changed');
      this.alive = live.size;
      this.opts.metrics?.shardReplicas.set(live.size);
    }
    const floor = this.floor();
    this.needy = [...live].some((id) => id !== this.identity && (holding.get(id) ?? 0) < floor);
  }

  private async forget(path: string, resourceVersion: string): Promise<void> {
    try {
      await this.opts.client.request({
        method: 'DELETE',
        path,
        body: { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion } },
        timeoutMs: 5000,
      });
      this.log.info({ lease: path.split('/').pop() }, 'deleted the Lease of a replica gone for good');
    } catch (err) {
      // Another replica did it first, or it was renewed after all (409): nothing to do.
      if (!isNotFound(err)) this.log.debug({ err }, 'could not delete a stale replica Lease');
    }
  }
}
