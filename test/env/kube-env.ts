// A real Kubernetes control plane for tests and the demo: one etcd and one kube-apiserver, started as
// child processes on free 127.0.0.1 ports, with their own certificates, in a folder of their own.
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

// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import * as x509 from '@peculiar/x509';
import { stringify } from 'yaml';
import { resolveKubeAssets } from './assets.js';
import {
  freePorts,
  guardDir,
  removeGuardedDir,
  type Supervised,
  spawnSupervised,
  tailFile,
  waitReady,
} from './processes.js';

export interface KubeEnvOptions {
  /** Kubernetes version (v1.MINOR.PATCH); default: KUBEBUILDER_ASSETS's, else the first of hack/kube-versions. */
  version?: string;
  /** Folder for certificates, data, logs and the kubeconfig. Default: a new temp folder, removed by stop(). A given folder is kept. */
  dir?: string;
  /** How long to wait for each of etcd and kube-apiserver to become ready. Default 90 s. */
  startTimeoutMs?: number;
  /**
   * The API server's watch cache (default on, as in every real cluster). With it off, every watch and
   * list is served by etcd: a watch from a compacted resourceVersion fails with 410 at once after
   * compactEtcd(), but no periodic BOOKMARK events are sent (only the watch cache sends them).
   */
  watchCache?: boolean;
}

export interface KubeEnv {
  /** The kube-apiserver's version, e.g. v1.37.2. */
  readonly version: string;
  readonly dir: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Loaded from kubeconfigPath. */
  readonly kubeConfig: KubeConfig;
  /** http://127.0.0.1:<port> */
  readonly etcdEndpoint: string;
  readonly etcdDataDir: string;
  /** Stops the kube-apiserver process and starts it again on the same port; resolves once /readyz is ok. */
  restartApiServer(): Promise<void>;
  /**
   * Compacts etcd at its current revision (and records it where kube-apiserver's own compactor does).
   * Whatever etcd serves at an older resourceVersion then fails with 410 Gone. The API server's watch
   * cache, though, keeps serving watches (and exact lists) from its own history: for a 410 on a watch,
   * follow with restartApiServer() (the new cache starts at the current revision, as after a real
   * API server restart), or start the environment with `watchCache: false`.
   */
  compactEtcd(): Promise<void>;
  /** Stops both processes and removes the folder (unless it was given). Safe to call twice. */
  stop(): Promise<void>;
}

const SERVICE_CIDR = '10.0.0.0/24';
const SERVICE_IP = '10.0.0.1';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const CLUSTER_NAME = 'clusterforge-test';
const ADMIN_USER = 'clusterforge-test-admin';

// @peculiar/x509 types its provider with the DOM's Crypto, which this project's `lib` does not declare.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<x509.CryptoProvider['set']>[1]);

// ---------------------------------------------------------------------------------------------------
// Certificates (ECDSA P-256)

interface KeyPairPem {
  keys: webcrypto.CryptoKeyPair;
  privateKeyPem: string;
  publicKeyPem: string;
}

interface Pki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  saPrivateKeyPem: string;
  saPublicKeyPem: string;
}

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function newKeyPair(): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return {
    keys,
    privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    publicKeyPem: x509.PemConverter.encode(spki, 'PUBLIC KEY'),
  };
}

/** A random positive serial number (Go refuses negative ones), as hex. */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60 * 60 * 1000), notAfter: new Date(now + 365 * 24 * 60 * 60 * 1000) };
}

async function generatePki(): Promise<Pki> {
  const [caKeys, serverKeys, adminKeys, saKeys] = await Promise.all([
    newKeyPair(),
    newKeyPair(),
    newKeyPair(),
    newKeyPair(),
  ]);
  const caName = 'CN=clusterforge-test-ca';
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: caName,
    ...validity(),
    keys: caKeys.keys,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.keys.publicKey),
    ],
  });
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(ca);

  const leaf = async (subject: string, keys: KeyPairPem, extensions: x509.Extension[]): Promise<string> => {
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: ca.subject,
      ...validity(),
      publicKey: keys.keys.publicKey,
      signingKey: caKeys.keys.privateKey,
      signingAlgorithm: SIGNING_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        authorityKeyId,
        ...extensions,
      ],
    });
    return cert.toString('pem');
  };

  const serverCertPem = await leaf('CN=kube-apiserver', serverKeys, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: SERVICE_IP },
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: 'kubernetes' },
      { type: 'dns', value: 'kubernetes.default' },
      { type: 'dns', value: 'kubernetes.default.svc' },
      { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
    ]),
  ]);
  const adminCertPem = await leaf(`CN=${ADMIN_USER}, O=system:masters`, adminKeys, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);

  return {
    caCertPem: ca.toString('pem'),
    serverCertPem,
    serverKeyPem: serverKeys.privateKeyPem,
    adminCertPem,
    adminKeyPem: adminKeys.privateKeyPem,
    saPrivateKeyPem: saKeys.privateKeyPem,
    saPublicKeyPem: saKeys.publicKeyPem,
  };
}

// ---------------------------------------------------------------------------------------------------
// Probes

interface TlsClient {
  ca: string;
  cert: string;
  key: string;
}

function httpsGet(url: string, tls: TlsClient, timeoutMs = 3000): Promise<{ status: number; body: string }> {
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

function portInUse(proc: Supervised): boolean {
  return /address already in use/i.test(tailFile(proc.logPath, 60));
}

// ---------------------------------------------------------------------------------------------------

/** Starts etcd and kube-apiserver; resolves once the API server's /readyz is ok. */
export async function startKubeEnv(opts: KubeEnvOptions = {}): Promise<KubeEnv> {
  const assets = resolveKubeAssets(opts.version);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'clusterforge-kube-'));
  if (ownDir) guardDir(dir);
  const timeoutMs = opts.startTimeoutMs ?? 90_000;

  const pkiDir = join(dir, 'pki');
  const etcdDataDir = join(dir, 'etcd-data');
  const kubeconfigPath = join(dir, 'kubeconfig');
  const etcdLog = join(dir, 'etcd.log');
  const apiServerLog = join(dir, 'kube-apiserver.log');

  let etcd: Supervised | undefined;
  let apiServer: Supervised | undefined;
  let stopped = false;

  const stopAll = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await apiServer?.stop();
    await etcd?.stop();
    if (ownDir) removeGuardedDir(dir);
  };

  try {
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    // Always a fresh cluster, also in a reused folder: the certificates are new too.
    rmSync(etcdDataDir, { recursive: true, force: true });
    mkdirSync(etcdDataDir, { recursive: true, mode: 0o700 });
    chmodSync(etcdDataDir, 0o700);
    const pki = await generatePki();
    const file = (name: string, content: string): string => {
      const path = join(pkiDir, name);
      writeFileSync(path, content, { mode: 0o600 });
      return path;
    };
    const caFile = file('ca.crt', pki.caCertPem);
    const serverCertFile = file('apiserver.crt', pki.serverCertPem);
    const serverKeyFile = file('apiserver.key', pki.serverKeyPem);
    file('admin.crt', pki.adminCertPem);
    file('admin.key', pki.adminKeyPem);
    const saKeyFile = file('sa.key', pki.saPrivateKeyPem);
    const saPubFile = file('sa.pub', pki.saPublicKeyPem);
    const adminTls: TlsClient = { ca: pki.caCertPem, cert: pki.adminCertPem, key: pki.adminKeyPem };

    // etcd
    let etcdEndpoint = '';
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) {
        rmSync(etcdDataDir, { recursive: true, force: true });
        mkdirSync(etcdDataDir, { recursive: true, mode: 0o700 });
      }
      const [clientPort, peerPort] = await freePorts(2);
      etcdEndpoint = `http://127.0.0.1:${clientPort}`;
      const peer = `http://127.0.0.1:${peerPort}`;
      etcd = spawnSupervised(
        'etcd',
        assets.etcd,
        [
          '--name=clusterforge-test',
          `--data-dir=${etcdDataDir}`,
          `--listen-client-urls=${etcdEndpoint}`,
          `--advertise-client-urls=${etcdEndpoint}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=clusterforge-test=${peer}`,
          '--initial-cluster-state=new',
          '--unsafe-no-fsync=true',
        ],
        { logPath: etcdLog, cwd: dir },
      );
      const endpoint = etcdEndpoint;
      try {
        await waitReady(
          async () => {
            const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(2000) });
            const body = (await res.json()) as { health?: string };
            return res.ok && body.health === 'true';
          },
          { what: 'starting the test Kubernetes environment', timeoutMs, process: etcd },
        );
        break;
      } catch (err) {
        if (attempt < 3 && !etcd.running() && portInUse(etcd)) continue;
        throw err;
      }
    }

    // kube-apiserver
    const [securePort] = await freePorts(1);
    let server = `https://127.0.0.1:${securePort}`;
    const apiServerArgs = (port: number): string[] => [
      `--etcd-servers=${etcdEndpoint}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--tls-cert-file=${serverCertFile}`,
      `--tls-private-key-file=${serverKeyFile}`,
      `--client-ca-file=${caFile}`,
      '--authorization-mode=RBAC',
      '--anonymous-auth=true',
      `--service-account-issuer=${SA_ISSUER}`,
      `--service-account-key-file=${saPubFile}`,
      `--service-account-signing-key-file=${saKeyFile}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--disable-admission-plugins=ServiceAccount',
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      ...(opts.watchCache === false ? ['--watch-cache=false'] : []),
    ];
    let currentArgs: string[] = [];
    const launchApiServer = async (): Promise<void> => {
      const proc = spawnSupervised('kube-apiserver', assets.kubeApiServer, currentArgs, {
        logPath: apiServerLog,
        cwd: dir,
      });
      apiServer = proc;
      await waitReady(
        async () => {
          const res = await httpsGet(`${server}/readyz`, adminTls);
          return res.status === 200 && res.body.trim() === 'ok';
        },
        { what: 'starting the test Kubernetes environment', timeoutMs, process: proc, intervalMs: 200 },
      );
    };
    for (let attempt = 1, port = securePort as number; ; attempt++) {
      server = `https://127.0.0.1:${port}`;
      currentArgs = apiServerArgs(port);
      try {
        await launchApiServer();
        break;
      } catch (err) {
        if (attempt < 3 && apiServer && !apiServer.running() && portInUse(apiServer)) {
          [port] = (await freePorts(1)) as [number];
          continue;
        }
        throw err;
      }
    }

    // Admin kubeconfig (certificates embedded, so the file works when copied elsewhere).
    const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');
    writeFileSync(
      kubeconfigPath,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: CLUSTER_NAME, cluster: { server, 'certificate-authority-data': b64(pki.caCertPem) } },
        ],
        users: [
          {
            name: ADMIN_USER,
            user: {
              'client-certificate-data': b64(pki.adminCertPem),
              'client-key-data': b64(pki.adminKeyPem),
            },
          },
        ],
        contexts: [
          { name: CLUSTER_NAME, context: { cluster: CLUSTER_NAME, user: ADMIN_USER, namespace: 'default' } },
        ],
        'current-context': CLUSTER_NAME,
        preferences: {},
      }),
      { mode: 0o600 },
    );
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);

    const finalServer = server;
    const finalEtcdEndpoint = etcdEndpoint;
    return {
      version: assets.version,
      dir,
      kubeconfigPath,
      server: finalServer,
      kubeConfig,
      etcdEndpoint: finalEtcdEndpoint,
      etcdDataDir,
      async restartApiServer(): Promise<void> {
        if (stopped) throw new Error('restartApiServer: the test Kubernetes environment is stopped');
        await apiServer?.stop();
        await launchApiServer();
      },
      async compactEtcd(): Promise<void> {
        const range = await etcdPost(finalEtcdEndpoint, '/v3/kv/range', {
          key: Buffer.from('clusterforge-compact-probe').toString('base64'),
        });
        const header = range.header as { revision?: string | number } | undefined;
        const revision = header?.revision;
        if (revision === undefined)
          throw new Error(`etcd /v3/kv/range: no header.revision in ${JSON.stringify(range)}`);
        try {
          await etcdPost(finalEtcdEndpoint, '/v3/kv/compaction', {
            revision: String(revision),
            physical: true,
          });
        } catch (err) {
          // Compacting at a revision that is already compacted changes nothing.
          const message = (err as { etcdMessage?: string }).etcdMessage ?? '';
          if (!/compacted/.test(message)) throw err;
        }
      },
      stop: stopAll,
    };
  } catch (err) {
    // The error carries the tail of the failing process's log; a folder we made is removed.
    await stopAll().catch(() => {});
    throw err;
  }
}
