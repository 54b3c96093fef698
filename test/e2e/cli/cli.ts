// Runs the `clusterforge` CLI as a process, as a user would.
//
// Which build runs: by default the sources compiled by esbuild into one ES module (our code only; the
// npm packages stay external and load natively), cached by a hash of the sources under
// node_modules/.cache/clusterforge-e2e/. It is always the code under test, and starts three times
// faster than `node --import tsx src/cli/main.ts` (tsx's loader hooks make loading
// @kubernetes/client-node cost seconds of CPU per process). CLUSTERFORGE_E2E_CLI=tsx runs the sources
// through tsx instead; CLUSTERFORGE_E2E_CLI=built runs bin/clusterforge.js (after `npm run build`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { parse, stringify } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  /** Replaces the environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Close the reading end of stdout as soon as the CLI starts, as `| true` or a finished `| head` does. */
  closeStdout?: boolean;
}

let bundled: Promise<string> | undefined;

/** Every source file the CLI may load, hashed: the cache key of the bundle. */
async function sourceHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const dir of ['src', 'providers']) {
    const files = (await readdir(join(root, dir), { recursive: true }))
      .filter((f) => /\.(ts|mjs|json)$/.test(f))
      .sort();
    for (const f of files) {
      hash.update(f);
      hash.update(await readFile(join(root, dir, f)));
    }
  }
  hash.update(await readFile(join(root, 'package.json')));
  return hash.digest('hex').slice(0, 16);
}

async function bundle(): Promise<string> {
  const dir = join(root, 'node_modules', '.cache', 'clusterforge-e2e', await sourceHash());
  const file = join(dir, 'clusterforge.mjs');
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await build({
    entryPoints: [join(root, 'src/cli/main.ts')],
    outfile: temp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  await rename(temp, file);
  return file;
}

/** The command line that starts the CLI. */
async function command(): Promise<string[]> {
  const mode = process.env.CLUSTERFORGE_E2E_CLI;
  if (mode === 'built') return [`${root}bin/clusterforge.js`];
  if (mode === 'tsx') return ['--import', 'tsx', `${root}src/cli/main.ts`];
  bundled ??= bundle();
  return [await bundled];
}

/** Runs `clusterforge ...args`; never throws for a non-zero exit: check `code`. */
export function runCli(
  args: string[],
  opts: CliOptions = {},
): Promise<CliResult> & { started: Promise<void> } {
  let onSpawn!: () => void;
  const started = new Promise<void>((r) => {
    onSpawn = r;
  });
  const done = command().then(
    (cmd) =>
      new Promise<CliResult>((resolve, reject) => {
        const child = spawn(process.execPath, [...cmd, ...args], {
          cwd: root,
          env: opts.env ?? process.env,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        child.on('spawn', onSpawn);
        if (opts.closeStdout) child.on('spawn', () => child.stdout.destroy());
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve({
            code: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0),
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          });
        });
        child.stdin.on('error', () => {});
        child.stdin.end(opts.input ?? '');
      }),
  );
  return Object.assign(done, { started });
}

/**
 * A TCP proxy to the API server that holds every connection until open() is called. Lets a test start
 * the CLI (whose start-up takes seconds), change the world, and have the CLI look at it a moment later.
 * TLS passes through untouched; the API server's certificate is valid for 127.0.0.1 on any port.
 */
export class GatedProxy {
  private readonly held: { client: Socket; upstream: Socket }[] = [];
  private readonly sockets = new Set<Socket>();
  private opened = false;
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: string): Promise<GatedProxy> {
    const url = new URL(target);
    let proxy!: GatedProxy;
    const server = createServer((client) => proxy.accept(client, url.hostname, Number(url.port || 443)));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no port');
    proxy = new GatedProxy(server, address.port);
    return proxy;
  }

  private accept(client: Socket, host: string, port: number): void {
    const upstream = connect(port, host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    if (this.opened) {
      client.pipe(upstream).pipe(client);
      return;
    }
    client.pause();
    this.held.push({ client, upstream });
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once a client has connected (and is being held). */
  waitForConnection(): Promise<void> {
    if (this.held.length > 0) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  open(): void {
    this.opened = true;
    for (const { client, upstream } of this.held.splice(0)) {
      client.pipe(upstream).pipe(client);
      client.resume();
    }
  }

  /** A kubeconfig file like `kubeconfigPath`, but whose servers are this proxy. */
  async writeKubeconfig(kubeconfigPath: string, path: string): Promise<void> {
    const doc = parse(await readFile(kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string } }[];
    };
    for (const c of doc.clusters) c.cluster.server = `https://127.0.0.1:${this.port}`;
    await writeFile(path, stringify(doc), { mode: 0o600 });
  }

  stop(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
  }
}
