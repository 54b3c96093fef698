// The runtime's own HTTP client for the Kubernetes API: one request or one watch stream at a time, with
// auth and TLS taken from @kubernetes/client-node's KubeConfig.
//
// Why raw requests (KubeConfig.applyToHTTPSOptions + node:https) rather than client-node's `Watch` class:
// - Watch calls done(null) both when the server ends a watch cleanly (its timeoutSeconds) and when the
//   connection drops; the informer must tell the two apart (re-watch at once vs. back off).
// - Watch drops lines it cannot parse without a word; a torn stream must end the watch instead.
// - On a non-200 answer Watch keeps only the status text; we need the Status body (410 Expired vs. 410 Gone,
//   403 with its message).
// - Counting API requests by verb and code (for /metrics) needs one place where every request passes.
// The typed clients (makeApiClient) stay the right tool for controllers; see instrumentedApiClient() in
// metrics.ts to count their requests too.
//
// applyToHTTPSOptions runs for every request, so credentials that refresh (exec plugins, token and
// certificate files) are read again each time; the connection comes from a keep-alive agent kept per TLS
// identity (agent-pool.ts). Destroying a watch's socket closes that one connection and nothing else.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { type AgentPool, sharedAgentPool } from './agent-pool.js';
import { applyDeadlines } from './deadlines.js';
import { connectionDropped, KubeApiError } from './errors.js';
import type { KubeConfigSource } from './kubeconfig-source.js';
import { TokenBucket } from './token-bucket.js';

export type { KubeConfigSource } from './kubeconfig-source.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Called once per finished request: the Kubernetes verb, the HTTP code (0 when none came back), the time
 * taken, and the resource (kubeResource()).
 */
export type RequestObserver = (verb: string, code: number, durationMs: number, resource: string) => void;

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method: HttpMethod;
  /** The path below the server URL, e.g. `/api/v1/namespaces/default/configmaps`. */
  path: string;
  query?: Query;
  /** Serialized as JSON. */
  body?: unknown;
  /** Default `application/json`; PATCH bodies need e.g. `application/merge-patch+json`. */
  contentType?: string;
  signal?: AbortSignal;
  /** Fails the request when the socket is idle this long. Default: the client's (30 s). */
  timeoutMs?: number;
}

/** One event of a watch stream. `object` is the object (or a Status for ERROR). */
export interface WatchEvent<T = unknown> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchRequest {
  path: string;
  query?: Query;
  /** Aborting ends the watch: watch() then rejects with the signal's reason. */
  signal: AbortSignal;
  /** Called once the server answered 200 and the stream begins. */
  onOpen?: () => void;
  /** Called for each event, in order. A throw ends the watch, and watch() rejects with it. */
  onEvent: (event: WatchEvent) => void;
}

export interface KubeClientOptions {
  observe?: RequestObserver;
  /** From the start of a request to the end of its answer; default 30 s, 0: none (deadlines.ts). */
  timeoutMs?: number;
  userAgent?: string;
  /** Where keep-alive connections come from. Default: the process-wide pool. */
  agents?: AgentPool;
  /**
   * Client-side rate limit of requests (not of watch streams), as client-go's QPS and Burst: requests
   * beyond it wait their turn. Omitted: no limit.
   */
  rateLimit?: { qps: number; burst: number };
}

/** A Kubernetes resource: group ('' for the core group), version and plural name. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
}

/** The path of a collection (no name) or of one object; namespace undefined means all namespaces / cluster-scoped. */
export function resourcePath(
  ref: ResourceRef,
  opts: { namespace?: string | undefined; name?: string; subresource?: string } = {},
): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = opts.namespace ? `/namespaces/${encodeURIComponent(opts.namespace)}` : '';
  const name = opts.name === undefined ? '' : `/${encodeURIComponent(opts.name)}`;
  const sub = opts.subresource && opts.name !== undefined ? `/${opts.subresource}` : '';
  return `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** The Kubernetes verb of a request (as the API server's audit log names it). */
export function kubeVerb(method: string, path: string, query?: Query | URLSearchParams): string {
  const watch = query instanceof URLSearchParams ? query.get('watch') : query?.watch;
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  // Strip /api/<v> or /apis/<group>/<v>.
  const rest = segments[0] === 'api' ? segments.slice(2) : segments.slice(3);
  const inNamespace = rest[0] === 'namespaces' && rest.length >= 3;
  const resource = inNamespace ? rest.slice(2) : rest;
  const collection = resource.length <= 1;
  switch (method.toUpperCase()) {
    case 'GET':
      if (watch === true || watch === 'true' || watch === '1' || watch === 1) return 'watch';
      return collection ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return collection ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

/**
 * The resource a request is about, as `plural` (core group) or `plural.group`, with `/subresource`:
 * `configmaps`, `clusters.clusterforge.dev/status`. Other paths (/version, /healthz) are `-`.
 */
export function kubeResource(path: string): string {
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  let group: string;
  let rest: string[];
  if (segments[0] === 'api') {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis') {
    group = segments[1] ?? '';
    rest = segments.slice(3);
  } else return '-';
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [plural, , subresource] = rest;
  if (!plural) return '-';
  const resource = group ? `${plural}.${group}` : plural;
  return subresource ? `${resource}/${subresource}` : resource;
}

interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

function statusError(code: number, verb: string, path: string, body: string): KubeApiError {
  let status: Status | undefined;
  try {
    status = JSON.parse(body) as Status;
  } catch {
    // Not a Status: keep the text.
  }
  if (status?.kind === 'Status')
    return new KubeApiError(code, verb, path, status.message ?? '', status.reason);
  return new KubeApiError(code, verb, path, body.slice(0, 500));
}

/** The KubeApiError of a watch ERROR event's Status. */
export function watchStatusError(path: string, status: unknown): KubeApiError {
  const s = (status ?? {}) as Status;
  return new KubeApiError(s.code ?? 500, 'watch', path, s.message ?? JSON.stringify(status), s.reason);
}

function buildQuery(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

export class KubeClient {
  private readonly observe: RequestObserver | undefined;
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private readonly agents: AgentPool;
  private readonly bucket: TokenBucket | undefined;

  constructor(
    readonly kubeConfig: KubeConfigSource,
    opts: KubeClientOptions = {},
  ) {
    this.observe = opts.observe;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'clusterforge';
    this.agents = opts.agents ?? sharedAgentPool();
    const limit = opts.rateLimit;
    this.bucket = limit && limit.qps > 0 ? new TokenBucket(limit.qps, Math.max(1, limit.burst)) : undefined;
  }

  /** The server URL of the current context. */
  get server(): string {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    return cluster.server;
  }

  /** Sends one request and returns the parsed JSON body; a non-2xx answer throws KubeApiError. */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    const verb = kubeVerb(req.method, req.path, req.query);
    await this.waitForTurn(req.signal);
    const started = performance.now();
    let code = 0;
    try {
      const body = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), 'utf8');
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body) {
        headers['content-type'] = req.contentType ?? 'application/json';
        headers['content-length'] = String(body.length);
      }
      const res = await this.send(req.method, `${req.path}${buildQuery(req.query)}`, headers, {
        signal: req.signal,
        timeoutMs: req.timeoutMs ?? this.timeoutMs,
        body,
      });
      code = res.statusCode ?? 0;
      const text = await readAll(res);
      if (code < 200 || code >= 300) throw statusError(code, verb, req.path, text);
      return (text === '' ? undefined : JSON.parse(text)) as T;
    } finally {
      this.observe?.(verb, code, performance.now() - started, kubeResource(req.path));
    }
  }

  /**
   * Opens a watch and feeds its events to onEvent. Resolves when the server ends the stream cleanly;
   * rejects with KubeApiError on a non-200 answer, with an Error when the connection drops or a line does
   * not parse, and with the abort reason when `signal` aborts.
   */
  async watch(req: WatchRequest): Promise<void> {
    const query = { ...req.query, watch: 'true' };
    const started = performance.now();
    let code = 0;
    try {
      const res = await this.send(
        'GET',
        `${req.path}${buildQuery(query)}`,
        { accept: 'application/json' },
        {
          signal: req.signal,
          // A watch is idle between events by design; staleness is the informer's to judge.
          timeoutMs: 0,
        },
      );
      code = res.statusCode ?? 0;
      if (code !== 200) throw statusError(code, 'watch', req.path, await readAll(res));
      req.onOpen?.();
      await readLines(res, req.signal, (line) => {
        let event: WatchEvent;
        try {
          event = JSON.parse(line) as WatchEvent;
        } catch {
          throw new Error(`watch ${req.path}: a line of the stream is not JSON: ${line.slice(0, 200)}`);
        }
        req.onEvent(event);
      });
    } finally {
      this.observe?.('watch', code, performance.now() - started, kubeResource(req.path));
    }
  }

  /** Waits until the rate limit lets one more request go (at once when there is none). */
  private async waitForTurn(signal: AbortSignal | undefined): Promise<void> {
    const waitMs = this.bucket?.reserve() ?? 0;
    if (waitMs <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(done, waitMs);
      function done(): void {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      function onAbort(): void {
        clearTimeout(timer);
        reject(signal?.reason);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async send(
    method: HttpMethod,
    pathAndQuery: string,
    headers: Record<string, string>,
    opts: { signal?: AbortSignal | undefined; timeoutMs: number; body?: Buffer | undefined },
  ): Promise<IncomingMessage> {
    opts.signal?.throwIfAborted();
    const url = new URL(this.server.replace(/\/+$/, '') + pathAndQuery);
    const https: RequestOptions & { headers?: Record<string, string>; auth?: string } = {};
    await this.kubeConfig.applyToHTTPSOptions(https);
    const plain = url.protocol === 'http:';
    const request = plain ? httpRequest : httpsRequest;
    // Through a proxy, client-node's own (proxy) agent carries the request; plain HTTP has no TLS to key on.
    const agent =
      plain || this.kubeConfig.getCurrentCluster()?.proxyUrl ? https.agent : this.agents.agentFor(https);
    const options = {
      method,
      agent,
      auth: https.auth,
      headers: { 'user-agent': this.userAgent, ...https.headers, ...headers },
      signal: opts.signal,
    };
    const attempt = (): Promise<IncomingMessage> =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const req = request(url, options, resolve);
        applyDeadlines(req, `${method} ${url.pathname}`, opts.timeoutMs);
        req.on('error', (err) =>
          reject(
            opts.signal?.aborted ? opts.signal.reason : Object.assign(err, { reused: req.reusedSocket }),
          ),
        );
        req.end(opts.body);
      });
    try {
      return await attempt();
    } catch (err) {
      // A kept connection the server closed while it sat idle fails at once with ECONNRESET; the server read
      // nothing, so an idempotent request goes again, once, on a fresh connection.
      if (!opts.signal?.aborted && IDEMPOTENT.has(method) && isResetOfKeptConnection(err)) return attempt();
      throw err;
    }
  }
}

const IDEMPOTENT = new Set<HttpMethod>(['GET', 'PUT', 'DELETE']);

function isResetOfKeptConnection(err: unknown): boolean {
  const e = err as { code?: string; reused?: boolean };
  return e.reused === true && (e.code === 'ECONNRESET' || e.code === 'EPIPE');
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(connectionDropped('the connection closed before the answer was complete'));
    });
  });
}

/** Feeds each complete line to onLine; resolves on a clean end of the stream, rejects on anything else. */
function readLines(res: IncomingMessage, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const finish = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err === undefined) resolve();
      else {
        reject(err);
        res.destroy();
      }
    };
    const onAbort = (): void => finish(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) return onAbort();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (settled) return;
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') {
          try {
            onLine(line);
          } catch (err) {
            finish(err);
            return;
          }
        }
        newline = buffered.indexOf('\n');
      }
    });
    res.on('end', () => finish());
    res.on('error', (err) => finish(signal.aborted ? (signal.reason ?? err) : err));
    res.on('close', () => {
      if (!res.complete)
        finish(signal.aborted ? signal.reason : connectionDropped('the watch connection dropped'));
      else finish();
    });
  });
}
