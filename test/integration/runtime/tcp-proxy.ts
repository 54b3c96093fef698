// A TCP proxy between a client under test and the real API server, to break connections the way networks
// do: drop them (both sockets destroyed), refuse new ones (the server is unreachable), or stall them (the
// connection stays open but nothing more arrives: what a dead NAT entry or a wedged load balancer does).
// TLS passes through untouched; the API server's certificate is valid for 127.0.0.1, whatever the port.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

interface Pair {
  client: Socket;
  upstream: Socket;
  stalled: boolean;
}

export class TcpProxy {
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  /** Connections accepted so far. */
  accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Starts a proxy on a free 127.0.0.1 port to `target` (https://host:port). */
  static async start(target: string): Promise<TcpProxy> {
    const url = new URL(target);
    const targetPort = Number(url.port || 443);
    let proxy!: TcpProxy;
    const server = createServer((client) => proxy.accept(client, url.hostname, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no port');
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** A copy of `kc` whose current cluster's server is this proxy. */
  kubeConfig(kc: KubeConfig): KubeConfig {
    const copy = new KubeConfig();
    const current = kc.getCurrentCluster()?.name;
    copy.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === current ? { ...c, server: this.url } : c)),
      users: kc.users,
      contexts: kc.contexts,
      currentContext: kc.currentContext,
    });
    return copy;
  }

  /** Open connections. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Destroys every open connection (the clients see a reset). */
  dropAll(): void {
    for (const pair of this.pairs) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Open connections stop delivering anything to the client, and stay open. New connections work. */
  stallAll(): void {
    for (const pair of this.pairs) pair.stalled = true;
  }

  /** Drops every connection and refuses new ones until up(). */
  down(): void {
    this.refusing = true;
    this.dropAll();
  }

  up(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.refusing) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = connect(port, host);
    const pair: Pair = { client, upstream, stalled: false };
    this.pairs.add(pair);
    const close = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (!pair.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.stalled) client.write(chunk);
    });
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  }
}
