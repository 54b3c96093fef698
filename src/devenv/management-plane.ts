// A local Kubernetes control plane: one etcd and one kube-apiserver on free 127.0.0.1 ports, with
// certificates of their own, in a folder of their own. The test harness (test/env/kube-env.ts) runs it
// as children that die with the test; the dev environment (src/devenv/dev-env.ts) runs it detached.
// Which of the two is the caller's Launcher.
//
// What runs, and what does not (as in controller-runtime's envtest):
// - etcd (single member, plain HTTP on loopback, no fsync) and kube-apiserver (TLS, client-certificate
//   and ServiceAccount-token authentication, RBAC authorization, the built-in admission chain).
// - No kube-controller-manager and no scheduler: namespaces are not emptied when deleted (they stay
//   Terminating), no ServiceAccount "default" appears in a new namespace, garbage collection of owned
//   objects does not happen, pods are never scheduled. For that reason the ServiceAccount admission
//   plugin is off (it would refuse every pod for want of the "default" ServiceAccount).
// - The endpoint reconciler is off: with it, kube-apiserver refuses to start on a loopback
//   --advertise-address ("may not be in the loopback range"). So the "kubernetes" Service in
//   "default" has no endpoints; nothing here needs them.
//
// Folder layout: pki/ (ca.crt, apiserver.crt/.key, admin.crt/.key, sa.key/.pub), etcd-data/,
// etcd.log, kube-apiserver.log, kubeconfig (the admin's, certificates embedded).

import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { allocatePorts } from '../net/ports.js';
import { type Launcher, type ProcessHandle, portInUse, stopOnce, waitReady } from '../supervisor/index.js';
import type { KubeAssets } from './assets.js';
import { generateManagementPki } from './pki.js';

const SERVICE_CIDR = '10.0.0.0/24';
const SERVICE_IP = '10.0.0.1';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface ManagementPlaneOptions {
  /** The folder for certificates, data, logs and the kubeconfig; it is created if missing. */
  dir: string;
  assets: KubeAssets;
  /** How etcd and kube-apiserver are started. */
  launch: Launcher;
  /** The etcd member's name, the kubeconfig's cluster and context, the CA's CN prefix. */
  name: string;
  /** The admin's user name in the kubeconfig and its certificate. */
  adminUser: string;
  /** What is being done, for error messages ("starting the test Kubernetes environment"). */
  what: string;
  /** How long to wait for each of etcd and kube-apiserver to become ready. Default 90 s. */
  startTimeoutMs?: number;
  /** The API server's watch cache (default on); off: every watch and list is served by etcd. */
  watchCache?: boolean;
  /** Serve /debug/pprof (off by default, as it costs a little; the scale bench profiles the server). */
  profiling?: boolean;
}

export interface ManagementPlane {
  /** The kube-apiserver's version, e.g. v1.37.2. */
  readonly version: string;
  readonly dir: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** http://127.0.0.1:<port> */
  readonly etcdEndpoint: string;
  readonly etcdDataDir: string;
  /** The current processes. */
  etcd(): ProcessHandle;
  apiServer(): ProcessHandle;
  /** Stops the kube-apiserver process and starts it again on the same port; resolves once /readyz is ok. */
  restartApiServer(): Promise<void>;
  /** Compacts etcd at its current revision: older resourceVersions then get 410 Gone from etcd. */
  compactEtcd(): Promise<void>;
  /** Stops kube-apiserver, then etcd. The folder stays. Safe to call twice. */
  stop(): Promise<void>;
}

export interface TlsClient {
  ca: string;
  cert: string;
  key: string;
}

export function managementPaths(dir: string) {
  const pkiDir = join(dir, 'pki');
  return {
    pkiDir,
    etcdDataDir: join(dir, 'etcd-data'),
    kubeconfig: join(dir, 'kubeconfig'),
    etcdLog: join(dir, 'etcd.log'),
    apiServerLog: join(dir, 'kube-apiserver.log'),
    caFile: join(pkiDir, 'ca.crt'),
    adminCertFile: join(pkiDir, 'admin.crt'),
    adminKeyFile: join(pkiDir, 'admin.key'),
  };
}

/** The admin's TLS material, read back from the folder. */
export function adminTls(dir: string): TlsClient {
  const p = managementPaths(dir);
  return {
    ca: readFileSync(p.caFile, 'utf8'),
    cert: readFileSync(p.adminCertFile, 'utf8'),
    key: readFileSync(p.adminKeyFile, 'utf8'),
  };
}

export function httpsGet(
  url: string,
  tls: TlsClient,
  timeoutMs = 3000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** etcd's /health says true. */
export async function etcdHealthy(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as { health?: string };
  return res.ok && body.health === 'true';
}

/** kube-apiserver's /readyz answers ok to the admin. */
export async function apiServerReady(server: string, tls: TlsClient): Promise<boolean> {
  const res = await httpsGet(`${server}/readyz`, tls);
  return res.status === 200 && res.body.trim() === 'ok';
}

async function etcdPost(endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${endpoint}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`etcd ${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok) {
    const message = typeof json.message === 'string' ? json.message : text.slice(0, 500);
    throw Object.assign(new Error(`etcd ${path}: HTTP ${res.status}: ${message}`), { etcdMessage: message });
  }
  return json;
}

/** Compacts etcd at its current revision (physical); compacting at a compacted revision is no error. */
export async function compactEtcd(endpoint: string): Promise<void> {
  const range = await etcdPost(endpoint, '/v3/kv/range', {
    key: Buffer.from('clusterforge-compact-probe').toString('base64'),
  });
  const header = range.header as { revision?: string | number } | undefined;
  const revision = header?.revision;
  if (revision === undefined)
    throw new Error(`etcd /v3/kv/range: no header.revision in ${JSON.stringify(range)}`);
  try {
    await etcdPost(endpoint, '/v3/kv/compaction', { revision: String(revision), physical: true });
  } catch (err) {
    const message = (err as { etcdMessage?: string }).etcdMessage ?? '';
    if (!/compacted/.test(message)) throw err;
  }
}

export function etcdArgs(name: string, dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
    '--initial-cluster-state=new',
    '--unsafe-no-fsync=true',
  ];
}

export function apiServerArgs(opts: {
  pkiDir: string;
  etcdEndpoint: string;
  port: number;
  watchCache?: boolean;
  /** Serve /debug/pprof (off by default, as it costs a little; the scale bench profiles the server). */
  profiling?: boolean;
}): string[] {
  const pki = (name: string) => join(opts.pkiDir, name);
  return [
    `--etcd-servers=${opts.etcdEndpoint}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${opts.port}`,
    `--tls-cert-file=${pki('apiserver.crt')}`,
    `--tls-private-key-file=${pki('apiserver.key')}`,
    `--client-ca-file=${pki('ca.crt')}`,
    '--authorization-mode=RBAC',
    '--anonymous-auth=true',
    // Bootstrap token Secrets in kube-system authenticate, as on a kubeadm cluster (the aws-ec2
    // join-token test signs in with the token a machine's user data carries).
    '--enable-bootstrap-token-auth=true',
    `--service-account-issuer=${SA_ISSUER}`,
    `--service-account-key-file=${pki('sa.pub')}`,
    `--service-account-signing-key-file=${pki('sa.key')}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    `--profiling=${opts.profiling === true}`,
    ...(opts.watchCache === false ? ['--watch-cache=false'] : []),
  ];
}

/** Writes the admin kubeconfig (certificates embedded, so the file works when copied elsewhere). */
export function writeAdminKubeconfig(
  path: string,
  opts: { server: string; name: string; adminUser: string; tls: TlsClient },
): void {
  const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: opts.name, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.tls.ca) } },
      ],
      users: [
        {
          name: opts.adminUser,
          user: { 'client-certificate-data': b64(opts.tls.cert), 'client-key-data': b64(opts.tls.key) },
        },
      ],
      contexts: [
        { name: opts.name, context: { cluster: opts.name, user: opts.adminUser, namespace: 'default' } },
      ],
      'current-context': opts.name,
      preferences: {},
    }),
    { mode: 0o600 },
  );
}

/**
 * Starts etcd and kube-apiserver, always as a new, empty cluster with new certificates (also in a
 * reused folder); resolves once the API server's /readyz is ok and the kubeconfig is written. On a
 * failure, whatever was started is stopped and the error carries the tail of the failing log.
 */
export async function startManagementPlane(opts: ManagementPlaneOptions): Promise<ManagementPlane> {
  const { dir, assets, launch, what } = opts;
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  const paths = managementPaths(dir);

  let etcd: ProcessHandle | undefined;
  let apiServer: ProcessHandle | undefined;
  const stop = stopOnce(async () => {
    await apiServer?.stop();
    await etcd?.stop();
  });

  try {
    mkdirSync(paths.pkiDir, { recursive: true, mode: 0o700 });
    rmSync(paths.etcdDataDir, { recursive: true, force: true });
    mkdirSync(paths.etcdDataDir, { recursive: true, mode: 0o700 });
    chmodSync(paths.etcdDataDir, 0o700);
    const pki = await generateManagementPki({
      caName: `${opts.name}-ca`,
      adminUser: opts.adminUser,
      serviceIP: SERVICE_IP,
    });
    const file = (name: string, content: string): void =>
      writeFileSync(join(paths.pkiDir, name), content, { mode: 0o600 });
    file('ca.crt', pki.caCertPem);
    file('apiserver.crt', pki.serverCertPem);
    file('apiserver.key', pki.serverKeyPem);
    file('admin.crt', pki.adminCertPem);
    file('admin.key', pki.adminKeyPem);
    file('sa.key', pki.saPrivateKeyPem);
    file('sa.pub', pki.saPublicKeyPem);
    const tls: TlsClient = { ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem };

    // etcd (another port on "address already in use": a free port can be taken before it is bound)
    let etcdEndpoint = '';
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        rmSync(paths.etcdDataDir, { recursive: true, force: true });
        mkdirSync(paths.etcdDataDir, { recursive: true, mode: 0o700 });
      }
      const [clientPort, peerPort] = (await allocatePorts(2)) as [number, number];
      etcdEndpoint = `http://127.0.0.1:${clientPort}`;
      const proc = launch('etcd', assets.etcd, etcdArgs(opts.name, paths.etcdDataDir, clientPort, peerPort), {
        logPath: paths.etcdLog,
        cwd: dir,
      });
      etcd = proc;
      const endpoint = etcdEndpoint;
      try {
        await waitReady(() => etcdHealthy(endpoint), { what, timeoutMs, process: proc });
        break;
      } catch (err) {
        if (attempt < 3 && !proc.running() && portInUse(proc)) continue;
        throw err;
      }
    }

    // kube-apiserver
    let [port] = (await allocatePorts(1)) as [number];
    let server = `https://127.0.0.1:${port}`;
    const launchApiServer = async (): Promise<void> => {
      const proc = launch(
        'kube-apiserver',
        assets.kubeApiServer,
        apiServerArgs({
          pkiDir: paths.pkiDir,
          etcdEndpoint,
          port,
          watchCache: opts.watchCache,
          profiling: opts.profiling,
        }),
        { logPath: paths.apiServerLog, cwd: dir },
      );
      apiServer = proc;
      await waitReady(() => apiServerReady(server, tls), { what, timeoutMs, process: proc, intervalMs: 200 });
    };
    for (let attempt = 1; ; attempt++) {
      server = `https://127.0.0.1:${port}`;
      try {
        await launchApiServer();
        break;
      } catch (err) {
        if (attempt < 3 && apiServer && !apiServer.running() && portInUse(apiServer)) {
          [port] = (await allocatePorts(1)) as [number];
          continue;
        }
        throw err;
      }
    }

    writeAdminKubeconfig(paths.kubeconfig, { server, name: opts.name, adminUser: opts.adminUser, tls });

    const finalEtcdEndpoint = etcdEndpoint;
    return {
      version: assets.version,
      dir,
      kubeconfigPath: paths.kubeconfig,
      server,
      etcdEndpoint: finalEtcdEndpoint,
      etcdDataDir: paths.etcdDataDir,
      etcd: () => etcd as ProcessHandle,
      apiServer: () => apiServer as ProcessHandle,
      async restartApiServer(): Promise<void> {
        if (stop.stopped) throw new Error(`restartApiServer: ${opts.name} is stopped`);
        await apiServer?.stop();
        await launchApiServer();
      },
      compactEtcd: () => compactEtcd(finalEtcdEndpoint),
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
