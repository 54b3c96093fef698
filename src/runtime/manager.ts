// The manager: shared informers, the controllers, leader election, and the health and metrics endpoints.
//
// - Informers start with the manager, leader or not, so a standby has a warm cache when it takes over and
//   /readyz means the same on every replica: ready once every informer has synced.
// - Controllers run only while this process leads (or always, without leader election). When the lease is
//   lost, they stop (finishing the reconciles in flight) and the process campaigns again.
// - stop() (and SIGTERM/SIGINT, when handleSignals is set): stop taking keys, let the reconciles in flight
//   finish (up to shutdownTimeoutMs), release the lease, stop the informers, close the endpoints. The
//   signal handlers are removed as the stop begins, so a second Ctrl-C ends the process at once.
// - With shards (src/runtime/shards.ts) instead of leader election, the controllers run on every replica and
//   each reconcile passes the gate of its cluster's shard; the shard Leases are released after the
//   controllers stop.
// - One HTTP server on a loopback address by default serves /healthz, /readyz and /metrics.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Controller, type ControllerOptions } from './controller.js';
import { EventRecorder } from './events.js';
import { Informer, type InformerOptions, type InformerSpec } from './informer.js';
import { LeaderElector } from './leader-election.js';
import { silentLogger } from './log.js';
import { defaultMetrics, type RuntimeMetrics } from './metrics.js';
import type { KubeObject } from './object-key.js';
import { type ShardConfig, ShardSet } from './shards.js';
import { KubeClient } from './transport.js';

export interface LeaderElectionConfig {
  namespace: string;
  /** Lease name. Default `clusterforge-controller-manager`. */
  name?: string;
  /** Default: `<POD_NAME or hostname>_<random>`. */
  identity?: string;
  /** Default 15. */
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  renewDeadlineMs?: number;
  retryIntervalMs?: number;
}

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  log?: Logger;
  /**
   * `host:port` of /healthz, /readyz and /metrics; port 0 picks a free one (see address()). Default
   * `127.0.0.1:8080`. null: no HTTP server.
   */
  address?: string | null;
  /** Omitted or false: no leader election (controllers run at once). */
  leaderElection?: LeaderElectionConfig | false;
  /** Shard the work across replicas (2 shards or more); not with leaderElection. */
  shards?: ShardConfig & { identity?: string };
  metrics?: RuntimeMetrics;
  /** Stop on SIGTERM and SIGINT. Default false (the CLI turns it on). */
  handleSignals?: boolean;
  /** How long stop() waits for reconciles in flight. Default 30 s. */
  shutdownTimeoutMs?: number;
  /**
   * Client-side limit of the controllers' API requests (`--kube-api-qps`, `--kube-api-burst`). Leader
   * election has a client of its own outside it, so a busy operator never loses its lease to its own queue.
   */
  rateLimit?: { qps: number; burst: number };
  /** Defaults for every informer made by informer() (page size, staleness, back-off). */
  informerDefaults?: Partial<Omit<InformerOptions, keyof InformerSpec | 'client' | 'log'>>;
}

type ManagerState = 'new' | 'running' | 'stopping' | 'stopped';

function specKey(spec: InformerSpec): string {
  return JSON.stringify([
    spec.group,
    spec.version,
    spec.plural,
    spec.namespace ?? '',
    spec.labelSelector ?? '',
    spec.fieldSelector ?? '',
  ]);
}

function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw new Error(`the manager address ${JSON.stringify(address)} is not host:port`);
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(address.slice(colon + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`the manager address ${address} has a bad port`);
  return { host, port };
}

export class Manager {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  /** The leader-election identity (also the reportingInstance of events). */
  readonly identity: string;
  /** Resolves once the manager has stopped. */
  readonly done: Promise<void>;

  private readonly opts: ManagerOptions;
  /** Informers made by informer(), by spec. */
  private readonly shared = new Map<string, Informer<KubeObject>>();
  /** Every informer the manager starts and stops. */
  private readonly informers = new Set<Informer<KubeObject>>();
  private readonly controllers: Controller<KubeObject>[] = [];
  private readonly elector: LeaderElector | undefined;
  /** The shards this replica holds, when sharded (controllers gate their reconciles on it). */
  readonly shards: ShardSet | undefined;
  private server: Server | undefined;
  private state: ManagerState = 'new';
  private controllersRunning = false;
  /** Serializes starting and stopping the controllers (leadership can flap). */
  private controllerTransition: Promise<void> = Promise.resolve();
  private resolveDone!: () => void;
  private stopPromise: Promise<void> | undefined;
  private readonly signalHandler = (signal: NodeJS.Signals): void => {
    this.log.info({ signal }, 'received a signal; stopping');
    void this.stop();
  };

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.log = opts.log ?? silentLogger();
    this.metrics = opts.metrics ?? defaultMetrics();
    this.client = new KubeClient(opts.kubeConfig, {
      observe: this.metrics.observeApiRequest,
      ...(opts.rateLimit ? { rateLimit: opts.rateLimit } : {}),
    });
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
    const le = opts.leaderElection || undefined;
    if (le && opts.shards) throw new Error('a manager shards its work or elects a leader, not both');
    this.identity =
      le?.identity ??
      opts.shards?.identity ??
      // A pod on the host network has the node's hostname; init gives it POD_NAME (downward API).
      `${process.env.POD_NAME || hostname()}_${randomBytes(4).toString('hex')}`;
    if (opts.shards) {
      this.shards = new ShardSet({
        ...opts.shards,
        // Its own client, outside the rate limit, as leader election's.
        client: new KubeClient(opts.kubeConfig, { observe: this.metrics.observeApiRequest }),
        identity: this.identity,
        log: this.log,
        metrics: this.metrics,
      });
    }
    if (le) {
      const leaseName = le.name ?? 'clusterforge-controller-manager';
      const lease = `${le.namespace}/${leaseName}`;
      this.elector = new LeaderElector({
        client: new KubeClient(opts.kubeConfig, { observe: this.metrics.observeApiRequest }),
        namespace: le.namespace,
        name: leaseName,
        identity: this.identity,
        leaseDurationSeconds: le.leaseDurationSeconds,
        renewIntervalMs: le.renewIntervalMs,
        renewDeadlineMs: le.renewDeadlineMs,
        retryIntervalMs: le.retryIntervalMs,
        log: this.log,
        onStartedLeading: () => {
          this.metrics.leader.set({ lease }, 1);
          this.startControllers();
        },
        onStoppedLeading: async () => {
          this.metrics.leader.set({ lease }, 0);
          await this.stopControllers();
        },
      });
    }
  }

  /** A shared informer for the spec (one per resource, namespace and selectors), started with the manager. */
  informer<T extends KubeObject = KubeObject>(spec: InformerSpec): Informer<T> {
    const key = specKey(spec);
    const existing = this.shared.get(key);
    if (existing) return existing as unknown as Informer<T>;
    const metrics = this.metrics;
    const informer: Informer<KubeObject> = new Informer<KubeObject>({
      ...this.opts.informerDefaults,
      ...spec,
      client: this.client,
      log: this.log,
      onLoopEvent: (event) => metrics.informerLoop.inc({ informer: informer.name, event }),
    });
    this.shared.set(key, informer);
    this.informers.add(informer);
    if (this.state === 'running') informer.start();
    return informer as unknown as Informer<T>;
  }

  /** Adds a controller; it runs while the manager leads. Add controllers before start(). */
  addController<P extends KubeObject>(
    opts: Omit<ControllerOptions<P>, 'metrics' | 'log'> & { log?: Logger },
  ): Controller<P> {
    if (this.state !== 'new') throw new Error('add controllers before the manager starts');
    const controller = new Controller<P>({ log: this.log, ...opts, metrics: this.metrics });
    this.controllers.push(controller as unknown as Controller<KubeObject>);
    // Informers made elsewhere than informer() are started and stopped with the manager too.
    for (const informer of controller.informers()) this.informers.add(informer);
    return controller;
  }

  /** An event recorder reporting as `clusterforge.dev/<component>`. */
  eventRecorder(component: string): EventRecorder {
    return new EventRecorder({
      client: this.client,
      controller: component.includes('/') ? component : `clusterforge.dev/${component}`,
      instance: this.identity,
      log: this.log,
    });
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.state === 'running';
  }

  /** True once every informer has synced. */
  ready(): boolean {
    return [...this.informers].every((informer) => informer.hasSynced());
  }

  /** The address the HTTP server listens on (after start()). */
  address(): { host: string; port: number } | undefined {
    const addr = this.server?.address() as AddressInfo | null | undefined;
    return addr ? { host: addr.address, port: addr.port } : undefined;
  }

  /** The base URL of the HTTP server (after start()), e.g. http://127.0.0.1:8080. */
  url(): string | undefined {
    const addr = this.address();
    if (!addr) return undefined;
    return `http://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
  }

  /** Starts the endpoints, the informers, and leader election (or the controllers). Resolves once listening. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`the manager cannot start: it is ${this.state}`);
    this.state = 'running';
    const address = this.opts.address === undefined ? '127.0.0.1:8080' : this.opts.address;
    if (address !== null) await this.listen(parseAddress(address));
    if (this.opts.handleSignals) {
      process.on('SIGTERM', this.signalHandler);
      process.on('SIGINT', this.signalHandler);
    }
    for (const informer of this.informers) informer.start();
    this.shards?.start();
    if (this.elector) this.elector.start();
    else this.startControllers();
    this.log.info(
      {
        address: this.url(),
        leaderElection: this.elector ? this.identity : false,
        ...(this.shards ? { shards: this.shards.count, identity: this.identity } : {}),
        controllers: this.controllers.length,
      },
      'manager started',
    );
  }

  /**
   * Graceful stop: controllers stop taking keys and finish what is in flight, the lease is released (unless
   * `releaseLease` is false, which leaves it to expire as a crash would), informers stop, the server closes.
   */
  stop(opts: { releaseLease?: boolean } = {}): Promise<void> {
    this.stopPromise ??= this.doStop(opts);
    return this.stopPromise;
  }

  private async doStop(opts: { releaseLease?: boolean }): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      this.resolveDone();
      return;
    }
    this.state = 'stopping';
    process.off('SIGTERM', this.signalHandler);
    process.off('SIGINT', this.signalHandler);
    const timeoutMs = this.opts.shutdownTimeoutMs ?? 30_000;
    const release = opts.releaseLease ?? true;
    const stopping = this.elector
      ? this.elector.stop({ release }) // calls onStoppedLeading -> stopControllers
      : this.stopControllers().then(() => this.shards?.stop({ release }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([stopping.then(() => 'ok' as const), timedOut])) === 'timeout') {
      this.log.warn({ timeoutMs }, 'reconciles still in flight after the shutdown timeout; stopping anyway');
    }
    clearTimeout(timer);
    await Promise.all([...this.informers].map((informer) => informer.stop()));
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.state = 'stopped';
    this.log.info('manager stopped');
    this.resolveDone();
  }

  private startControllers(): void {
    this.controllerTransition = this.controllerTransition.then(() => {
      if (this.controllersRunning || this.state !== 'running') return;
      this.controllersRunning = true;
      // Not awaited: a controller waits for its informers to sync, and stopControllers() (queued behind
      // this) must be able to interrupt that wait.
      for (const controller of this.controllers) {
        controller
          .start()
          .catch((err: unknown) =>
            this.log.error({ err, controller: controller.name }, 'controller failed to start'),
          );
      }
    });
  }

  private stopControllers(): Promise<void> {
    this.controllerTransition = this.controllerTransition.then(async () => {
      if (!this.controllersRunning) return;
      this.controllersRunning = false;
      await Promise.all(this.controllers.map((controller) => controller.stop()));
    });
    return this.controllerTransition;
  }

  private listen(addr: { host: string; port: number }): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log.error({ err }, 'health/metrics endpoint failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const text = (code: number, body: string): void => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
      case '/livez':
        return this.state === 'running' || this.state === 'stopping'
          ? text(200, 'ok\n')
          : text(503, `${this.state}\n`);
      case '/readyz': {
        if (this.state !== 'running') return text(503, `${this.state}\n`);
        const waiting = [...this.informers].filter((informer) => !informer.hasSynced()).map((i) => i.name);
        return waiting.length === 0
          ? text(200, 'ok\n')
          : text(503, `informers not synced: ${waiting.join(', ')}\n`);
      }
      case '/metrics': {
        const { contentType, body } = await this.metrics.text();
        res.writeHead(200, { 'content-type': contentType });
        res.end(body);
        return;
      }
      default:
        return text(404, 'not found\n');
    }
  }
}
