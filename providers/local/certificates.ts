// The certificate files of a cluster and its machines, issued from the cluster's CAs.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TlsIdentity } from '../../src/net/https.js';
import {
  expiresWithin,
  issueAdminCertificate,
  issueControlPlaneCertificates,
  issueEtcdClientCertificate,
  issueNodeClientCertificate,
} from '../../src/pki/index.js';
import type { ClusterCertificates, KeyPair } from '../../src/provider/contract.js';
import { type ClusterPaths, ensureDir, exists, type MachinePaths, writeFileAtomic } from './state.js';

/** Renew the provider's own client certificates when they have less than this left. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

async function writeKeyPair(dir: string, name: string, pair: KeyPair): Promise<void> {
  await writeFileAtomic(join(dir, `${name}.key`), pair.key, 0o600);
  await writeFileAtomic(join(dir, `${name}.crt`), pair.cert, 0o644);
}

async function readKeyPair(dir: string, name: string): Promise<KeyPair | undefined> {
  const [cert, key] = await Promise.all([
    readOptional(join(dir, `${name}.crt`)),
    readOptional(join(dir, `${name}.key`)),
  ]);
  return cert && key ? { cert, key } : undefined;
}

/** The provider's own identities towards the cluster: the admin (API servers) and an etcd client. */
export interface ClusterIdentities {
  admin: TlsIdentity;
  etcdClient: TlsIdentity;
}

/**
 * Reads the cluster-level certificates from the state folder, issuing (or renewing) them from the
 * cluster's CAs when missing, expiring or issued by another CA. Without CAs, what is on disk is
 * used as it is (deletion works without them); undefined when nothing is there.
 */
export async function ensureClusterIdentities(
  paths: ClusterPaths,
  certs: ClusterCertificates | undefined,
): Promise<ClusterIdentities | undefined> {
  const dir = paths.pkiDir;
  const [caCert, etcdCACert] = await Promise.all([
    readOptional(join(dir, 'ca.crt')),
    readOptional(join(dir, 'etcd-ca.crt')),
  ]);
  let admin = await readKeyPair(dir, 'admin');
  let etcdClient = await readKeyPair(dir, 'etcd-client');
  if (certs) {
    await ensureDir(dir);
    const caChanged = caCert !== certs.ca.cert;
    const etcdCAChanged = etcdCACert !== certs.etcd.cert;
    if (caChanged) await writeFileAtomic(join(dir, 'ca.crt'), certs.ca.cert, 0o644);
    if (etcdCAChanged) await writeFileAtomic(join(dir, 'etcd-ca.crt'), certs.etcd.cert, 0o644);
    if (!admin || caChanged || expiresWithin(admin.cert, RENEW_BEFORE_MS)) {
      admin = await issueAdminCertificate(certs.ca);
      await writeKeyPair(dir, 'admin', admin);
    }
    if (!etcdClient || etcdCAChanged || expiresWithin(etcdClient.cert, RENEW_BEFORE_MS)) {
      etcdClient = await issueEtcdClientCertificate(certs.etcd, 'clusterforge-etcd-client');
      await writeKeyPair(dir, 'etcd-client', etcdClient);
    }
    return {
      admin: { ca: certs.ca.cert, ...admin },
      etcdClient: { ca: certs.etcd.cert, ...etcdClient },
    };
  }
  if (!caCert || !etcdCACert || !admin || !etcdClient) return undefined;
  return { admin: { ca: caCert, ...admin }, etcdClient: { ca: etcdCACert, ...etcdClient } };
}

/** The files a control-plane machine's processes are started with. */
export interface ControlPlaneFiles {
  caCert: string;
  etcdCACert: string;
  frontProxyCACert: string;
  saPublicKey: string;
  saPrivateKey: string;
  apiServerCert: string;
  apiServerKey: string;
  apiServerEtcdClientCert: string;
  apiServerEtcdClientKey: string;
  apiServerKubeletClientCert: string;
  apiServerKubeletClientKey: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  etcdServerCert: string;
  etcdServerKey: string;
  etcdPeerCert: string;
  etcdPeerKey: string;
}

export function controlPlaneFiles(machine: MachinePaths): ControlPlaneFiles {
  const p = (file: string) => join(machine.pkiDir, file);
  return {
    caCert: p('ca.crt'),
    etcdCACert: p('etcd-ca.crt'),
    frontProxyCACert: p('front-proxy-ca.crt'),
    saPublicKey: p('sa.pub'),
    saPrivateKey: p('sa.key'),
    apiServerCert: p('apiserver.crt'),
    apiServerKey: p('apiserver.key'),
    apiServerEtcdClientCert: p('apiserver-etcd-client.crt'),
    apiServerEtcdClientKey: p('apiserver-etcd-client.key'),
    apiServerKubeletClientCert: p('apiserver-kubelet-client.crt'),
    apiServerKubeletClientKey: p('apiserver-kubelet-client.key'),
    frontProxyClientCert: p('front-proxy-client.crt'),
    frontProxyClientKey: p('front-proxy-client.key'),
    etcdServerCert: p('etcd-server.crt'),
    etcdServerKey: p('etcd-server.key'),
    etcdPeerCert: p('etcd-peer.crt'),
    etcdPeerKey: p('etcd-peer.key'),
  };
}

async function allExist(paths: string[]): Promise<boolean> {
  return (await Promise.all(paths.map(exists))).every(Boolean);
}

export interface ServiceNetwork {
  serviceDomain: string;
  serviceCIDR: string;
  /** The cluster's pod block: kube-controller-manager gives each Node a /24 of it. */
  podCIDR: string;
}

/**
 * Writes a control-plane machine's certificates once (the machine keeps them for its life).
 * Returns false when they are missing and no CA is at hand to issue them.
 */
export async function ensureControlPlaneCertificates(
  machine: MachinePaths,
  certs: ClusterCertificates | undefined,
  network: ServiceNetwork,
): Promise<boolean> {
  const files = controlPlaneFiles(machine);
  if (await allExist(Object.values(files))) return true;
  if (!certs) return false;
  await ensureDir(machine.pkiDir);
  const leaves = await issueControlPlaneCertificates(certs, { ...network, nodeName: machine.name });
  const dir = machine.pkiDir;
  await Promise.all([
    writeFileAtomic(files.caCert, certs.ca.cert, 0o644),
    writeFileAtomic(files.etcdCACert, certs.etcd.cert, 0o644),
    writeFileAtomic(files.frontProxyCACert, certs.proxy.cert, 0o644),
    writeFileAtomic(files.saPublicKey, certs.sa.cert, 0o644),
    writeFileAtomic(files.saPrivateKey, certs.sa.key, 0o600),
    writeKeyPair(dir, 'apiserver', leaves.apiServer),
    writeKeyPair(dir, 'apiserver-etcd-client', leaves.apiServerEtcdClient),
    writeKeyPair(dir, 'apiserver-kubelet-client', leaves.apiServerKubeletClient),
    writeKeyPair(dir, 'front-proxy-client', leaves.frontProxyClient),
    writeKeyPair(dir, 'etcd-server', leaves.etcdServer),
    writeKeyPair(dir, 'etcd-peer', leaves.etcdPeer),
  ]);
  return true;
}

export interface WorkerFiles {
  caCert: string;
  nodeCert: string;
  nodeKey: string;
}

export function workerFiles(machine: MachinePaths): WorkerFiles {
  return {
    caCert: join(machine.pkiDir, 'ca.crt'),
    nodeCert: join(machine.pkiDir, 'node.crt'),
    nodeKey: join(machine.pkiDir, 'node.key'),
  };
}

/** Writes a worker's node client certificate (CN system:node:<machine>) once. */
export async function ensureWorkerCertificates(
  machine: MachinePaths,
  certs: ClusterCertificates | undefined,
): Promise<boolean> {
  const files = workerFiles(machine);
  if (await allExist(Object.values(files))) return true;
  if (!certs) return false;
  await ensureDir(machine.pkiDir);
  const node = await issueNodeClientCertificate(certs.ca, machine.name);
  await writeFileAtomic(files.caCert, certs.ca.cert, 0o644);
  await writeKeyPair(machine.pkiDir, 'node', node);
  return true;
}
