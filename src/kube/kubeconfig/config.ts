// A kubeconfig, loaded without @kubernetes/client-node's index: that module's config.js imports every
// generated API model (~830 files, most of a second at start-up), which the CLI's one or two requests
// never use. The field mapping (config_types.js) and the token sources that refresh (exec_auth.js,
// file_auth.js) are client-node's own modules, imported by path: they import only node: modules, so the
// parsing, the exec plugin protocol and its credential cache stay exactly client-node's.
//
// applyToHTTPSOptions does what client-node's does for clusters and users of the usual kinds: CA, client
// certificate and key (data or file), insecure-skip-tls-verify, tls-server-name, token, token-file,
// username/password, `as`, exec plugins and in-cluster token files. A proxy-url and the azure, gcp and oidc
// auth providers are left to client-node's own KubeConfig, loaded then and only then (toClientNode()).

import { readFileSync } from 'node:fs';
import { Agent as HttpAgent } from 'node:http';
import { type AgentOptions, Agent as HttpsAgent, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, Context, User } from '@kubernetes/client-node/dist/config_types.js';
import { ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js';
import { FileAuth } from '@kubernetes/client-node/dist/file_auth.js';

export type { Cluster, Context, User };

/** What a kubeconfig holds once loaded (and merged): client-node's shapes, as its loadFromOptions takes. */
export interface KubeconfigData {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string | undefined;
}

/** client-node's authenticators that live in modules too heavy (or with dependencies) to load eagerly. */
const HEAVY_AUTH_PROVIDERS = new Set(['azure', 'gcp', 'oidc']);

/** The options applyToHTTPSOptions fills in (those of node:https, plus the `headers` map it adds to). */
export type HttpsOptions = RequestOptions & { headers?: Record<string, string>; auth?: string };

export class Kubeconfig {
  private readonly exec = new ExecAuth();
  private readonly file = new FileAuth();
  private full: Promise<KubeConfig> | undefined;

  constructor(private readonly data: KubeconfigData) {}

  getContexts(): Context[] {
    return this.data.contexts;
  }
  getClusters(): Cluster[] {
    return this.data.clusters;
  }
  getUsers(): User[] {
    return this.data.users;
  }
  getCurrentContext(): string | undefined {
    return this.data.currentContext;
  }
  setCurrentContext(name: string): void {
    this.data.currentContext = name;
    this.full = undefined;
  }
  getContextObject(name: string | undefined): Context | null {
    return this.data.contexts.find((c) => c.name === name) ?? null;
  }
  getCurrentCluster(): Cluster | null {
    const context = this.getContextObject(this.data.currentContext);
    return (context && this.data.clusters.find((c) => c.name === context.cluster)) ?? null;
  }
  getCurrentUser(): User | null {
    const context = this.getContextObject(this.data.currentContext);
    return (context && this.data.users.find((u) => u.name === context.user)) ?? null;
  }

  /** The same kubeconfig as client-node's KubeConfig (for the operator and the typed API clients). */
  toClientNode(): Promise<KubeConfig> {
    this.full ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      kc.loadFromOptions({ ...this.data });
      return kc;
    });
    return this.full;
  }

  /** As client-node's KubeConfig.applyToHTTPSOptions: TLS material, auth headers and an agent. */
  async applyToHTTPSOptions(opts: HttpsOptions): Promise<void> {
    const cluster = this.getCurrentCluster();
    const user = this.getCurrentUser();
    const provider = user?.authProvider?.name;
    if (cluster?.proxyUrl || (typeof provider === 'string' && HEAVY_AUTH_PROVIDERS.has(provider))) {
      await (await this.toClientNode()).applyToHTTPSOptions(opts);
      return;
    }
    // client-node sets no TLS material and no auth at all for a context without a user.
    if (user) {
      this.applyTls(opts, cluster, user);
      opts.headers ??= {};
      if (this.exec.isAuthProvider(user)) await this.exec.applyAuthentication(user, opts);
      else if (this.file.isAuthProvider(user)) await this.file.applyAuthentication(user, opts);
      if (user.token) opts.headers.Authorization = `Bearer ${user.token}`;
      if (user.username) opts.auth = `${user.username}:${user.password}`;
    }
    const agentOptions: AgentOptions = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      timeout: opts.timeout,
      servername: opts.servername,
    };
    // Unset, node's default (and NODE_TLS_REJECT_UNAUTHORIZED) applies, as in client-node.
    if (opts.rejectUnauthorized !== undefined) agentOptions.rejectUnauthorized = opts.rejectUnauthorized;
    if (cluster?.server.startsWith('http:')) {
      if (!cluster.skipTLSVerify)
        throw new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false');
      opts.agent = new HttpAgent(agentOptions);
    } else opts.agent = new HttpsAgent(agentOptions);
  }

  private applyTls(opts: HttpsOptions, cluster: Cluster | null, user: User): void {
    if (cluster?.skipTLSVerify) opts.rejectUnauthorized = false;
    if (cluster?.tlsServerName) opts.servername = cluster.tlsServerName;
    const ca = cluster && fileOrData(cluster.caFile, cluster.caData);
    if (ca) opts.ca = ca;
    const cert = fileOrData(user.certFile, user.certData);
    if (cert) opts.cert = cert;
    const key = fileOrData(user.keyFile, user.keyData);
    if (key) opts.key = key;
    if (user.impersonateUser != null) {
      opts.headers ??= {};
      opts.headers['Impersonate-User'] = user.impersonateUser;
    }
  }
}

/** A file wins over inline (base64) data, as in client-node; read on every call, so rotation is seen. */
function fileOrData(file: string | undefined, data: string | undefined): Buffer | null {
  if (file) return readFileSync(file);
  if (data) return Buffer.from(data, 'base64');
  return null;
}
