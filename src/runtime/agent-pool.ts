// Keep-alive HTTPS agents, one per TLS identity, shared by every KubeClient of the process.
//
// client-node's applyToHTTPSOptions makes a fresh agent on every call, so each request paid a TCP and TLS
// handshake (8,039 connections for 100 clusters, none reused). We still call it per request, because that
// is where credentials that refresh (exec plugins, token and certificate files) are read again; but we
// key a long-lived agent by the TLS material it returned, so a rotated certificate gets a new agent while
// an unchanged one keeps its warm connections. Bearer tokens travel in headers, never in the key.
import { createHash } from 'node:crypto';
import { Agent, type AgentOptions } from 'node:https';

/** A free connection is closed after this long unused: well below the API server's own idle timeout (90 s). */
const IDLE_SOCKET_MS = 30_000;
/** Distinct identities kept; beyond this the least recently used is dropped (its sockets close when idle). */
const MAX_AGENTS = 256;

/** The TLS fields of the options applyToHTTPSOptions fills in. */
export type TlsMaterial = Pick<
  AgentOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername'
>;

export class AgentPool {
  private readonly agents = new Map<string, Agent>();

  /** The keep-alive agent for this TLS identity, made on first use. */
  agentFor(tls: TlsMaterial): Agent {
    const key = identityKey(tls);
    const existing = this.agents.get(key);
    if (existing) {
      // Map order is insertion order: move it to the back, so the front is the least recently used.
      this.agents.delete(key);
      this.agents.set(key, existing);
      return existing;
    }
    const agent = new Agent({
      ...tls,
      keepAlive: true,
      // Only free sockets are closed on this timeout; a request's own timeout and a watch are unaffected.
      timeout: IDLE_SOCKET_MS,
      scheduling: 'lifo',
    });
    this.agents.set(key, agent);
    if (this.agents.size > MAX_AGENTS) {
      // Not destroyed: a watch may still stream on it. Its free sockets time out and it is collected.
      const oldest = this.agents.keys().next().value as string;
      this.agents.delete(oldest);
    }
    return agent;
  }

  get size(): number {
    return this.agents.size;
  }

  /** Closes every connection of every agent (tests and process shutdown). */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

function identityKey(tls: TlsMaterial): string {
  const hash = createHash('sha256');
  for (const part of [tls.ca, tls.cert, tls.key, tls.pfx, tls.passphrase]) {
    for (const item of Array.isArray(part) ? part : [part]) {
      // Length-prefixed so that two fields can never run together into the same text.
      const bytes = asBytes(item);
      hash.update(`${bytes.length}:`);
      hash.update(bytes);
    }
    hash.update('|');
  }
  hash.update(`${tls.rejectUnauthorized ?? ''}|${tls.servername ?? ''}`);
  return hash.digest('hex');
}

function asBytes(item: unknown): Buffer {
  if (item === undefined || item === null) return Buffer.alloc(0);
  if (typeof item === 'string') return Buffer.from(item, 'utf8');
  if (Buffer.isBuffer(item)) return item;
  // { pem, passphrase } and { buf, passphrase } forms of Node's TLS options.
  return Buffer.from(JSON.stringify(item), 'utf8');
}

let shared: AgentPool | undefined;

/** The process-wide pool. */
export function sharedAgentPool(): AgentPool {
  shared ??= new AgentPool();
  return shared;
}
