// A fault-injecting HTTP proxy in front of the AWS emulator: what AWS does to a client on a bad day,
// on purpose and reproducibly. Faults are throttling in the service's own error shape, HTTP 500 and
// 503 (these three answered by the proxy, the emulator never sees the request), and "drop": the
// request is forwarded, the emulator acts on it, and its answer is replaced by a connection reset,
// so the client cannot know what happened. Faults are targeted (the first N requests of an action)
// or random from a seed; every one injected is recorded.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AwsClientFactoryOptions } from '../../providers/aws-common/clients.js';
import {
  type AwsRequestName,
  errorAnswer,
  FAULT_KINDS,
  type FaultKind,
  nameRequest,
} from './aws-fault-shapes.js';

export type { FaultKind } from './aws-fault-shapes.js';

export interface InjectedFault extends AwsRequestName {
  kind: FaultKind;
}

export interface RandomFaults {
  seed: number;
  /** The chance of each kind per request (0..1), e.g. { throttle: 0.15, drop: 0.05 }. */
  rates: Partial<Record<FaultKind, number>>;
  /** Which actions may get a random fault (default: all). */
  actions?: (name: AwsRequestName) => boolean;
}

interface Rule {
  action: string;
  kind: FaultKind;
  left: number;
}

/** A small seeded generator (mulberry32): the same seed gives the same faults for the same calls. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** Calls that change something: every action but the reads (Describe, List, Get). */
export const isMutation = (name: AwsRequestName): boolean => !/^(Describe|List|Get)/.test(name.action);

export class AwsFaultProxy {
  readonly injected: InjectedFault[] = [];
  /** Every request seen, by `service:action`. */
  readonly seen = new Map<string, number>();
  private rules: Rule[] = [];
  private firsts?: { test: (name: AwsRequestName) => boolean; kind: FaultKind; hit: Set<string> };
  private chaos?: { opts: RandomFaults; random: () => number };
  private requestCount = 0;

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    readonly port: number,
  ) {}

  /** Listens on a free 127.0.0.1 port, forwarding to `targetEndpoint` (the emulator's URL). */
  static async start(targetEndpoint: string): Promise<AwsFaultProxy> {
    let proxy: AwsFaultProxy | undefined;
    const server = createServer((req, res) => {
      proxy?.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new AwsFaultProxy(server, new URL(targetEndpoint), (server.address() as AddressInfo).port);
    return proxy;
  }

  /** The next `times` requests of `action` (any service) get `kind`. */
  fail(action: string, kind: FaultKind, times = 1): this {
    this.rules.push({ action, kind, left: times });
    return this;
  }

  /** The first request of every action that passes `test` gets `kind` (after the targeted rules). */
  failFirstOfEach(test: (name: AwsRequestName) => boolean, kind: FaultKind = 'drop'): this {
    this.firsts = { test, kind, hit: new Set() };
    return this;
  }

  /** The actions failFirstOfEach has hit, sorted. */
  firstsHit(): string[] {
    return [...(this.firsts?.hit ?? [])].sort();
  }

  /** Random faults from here on (undefined: none). Targeted rules still come first. */
  randomly(opts: RandomFaults | undefined): this {
    this.chaos = opts ? { opts, random: seededRandom(opts.seed) } : undefined;
    return this;
  }

  /** Targeted rules not used yet, as "action:kind×n". */
  pending(): string[] {
    return this.rules.filter((r) => r.left > 0).map((r) => `${r.action}:${r.kind}×${r.left}`);
  }

  clear(): void {
    this.rules = [];
    this.firsts = undefined;
    this.chaos = undefined;
    this.injected.length = 0;
    this.seen.clear();
  }

  /** How many faults of each kind were injected (every kind named, 0 included). */
  countsByKind(): Record<FaultKind, number> {
    const counts = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
    for (const f of this.injected) counts[f.kind]++;
    return counts;
  }

  /** The injected faults, one line per kind with the actions hit. */
  report(title: string): string {
    const lines = FAULT_KINDS.map((kind) => {
      const hits = new Map<string, number>();
      for (const f of this.injected.filter((x) => x.kind === kind)) {
        const key = `${f.service}:${f.action}`;
        hits.set(key, (hits.get(key) ?? 0) + 1);
      }
      const detail = [...hits.entries()].map(([k, n]) => `${k}×${n}`).join(', ');
      return `  ${kind.padEnd(9)} ${String(this.countsByKind()[kind]).padStart(4)}  ${detail}`;
    });
    const total = [...this.seen.values()].reduce((a, b) => a + b, 0);
    return `${title}: ${this.injected.length} faults injected in ${total} AWS requests\n${lines.join('\n')}`;
  }

  /**
   * An AwsClientFactory hook that sends the clients' requests through this proxy (a middleware at
   * the SDK's build step, before retries and signing), chained after `then` when given.
   */
  onClient(then?: AwsClientFactoryOptions['onClient']): NonNullable<AwsClientFactoryOptions['onClient']> {
    const port = this.port;
    return (client, service) => {
      (client.middlewareStack as unknown as { add: (...a: unknown[]) => void }).add(
        (next: (args: unknown) => Promise<unknown>) =>
          async (args: { request?: { hostname?: string; port?: number } }) => {
            if (args.request) {
              args.request.hostname = '127.0.0.1';
              args.request.port = port;
            }
            return next(args);
          },
        { step: 'build', name: 'throughTheFaultProxy' },
      );
      then?.(client, service);
    };
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private choose(name: AwsRequestName): FaultKind | undefined {
    const rule = this.rules.find((r) => r.left > 0 && r.action === name.action);
    if (rule) {
      rule.left--;
      return rule.kind;
    }
    const firsts = this.firsts;
    if (firsts && !firsts.hit.has(name.action) && firsts.test(name)) {
      firsts.hit.add(name.action);
      return firsts.kind;
    }
    if (!this.chaos || (this.chaos.opts.actions && !this.chaos.opts.actions(name))) return undefined;
    // One draw per request, so the seed alone fixes which request gets which fault.
    let draw = this.chaos.random();
    for (const kind of FAULT_KINDS) {
      const rate = this.chaos.opts.rates[kind] ?? 0;
      if (draw < rate) return kind;
      draw -= rate;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const name = nameRequest(req.method ?? 'GET', req.url ?? '/', req.headers, body.toString('utf8'));
    const key = `${name.service}:${name.action}`;
    this.seen.set(key, (this.seen.get(key) ?? 0) + 1);
    const kind = this.choose(name);
    if (kind) this.injected.push({ ...name, kind });
    if (kind && kind !== 'drop') {
      const answer = errorAnswer(name.service, kind, `injected-${++this.requestCount}`);
      res.writeHead(answer.status, answer.headers).end(answer.body);
      return;
    }
    const upstream = await this.forward(req, body);
    if (kind === 'drop') {
      // The emulator has acted and answered; the client gets a reset connection instead.
      req.socket.resetAndDestroy();
      return;
    }
    const { 'transfer-encoding': _chunked, connection: _connection, ...headers } = upstream.headers;
    res.writeHead(upstream.status, { ...headers, 'content-length': String(upstream.body.length) });
    res.end(upstream.body);
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const out = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.target.host },
        },
        (answer) => {
          readBody(answer).then(
            (b) => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: b }),
            reject,
          );
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
