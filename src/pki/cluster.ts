// The certificates of one Kubernetes cluster, named and shaped as kubeadm makes them, so that
// kubeadm-bootstrapped machines (aws-ec2) and the local provider's processes accept the same PKI.
import type { ClusterCertificates, KeyPair } from '../provider/contract.js';
import { type CertificateProfile, createCertificateAuthority, issueCertificate } from './issue.js';
import { generateKeyPair, privateKeyToPem, publicKeyToPem } from './keys.js';

/** Subject names that the API server's authentication and authorization rely on. */
export const ADMIN_USER = 'kubernetes-admin';
export const ADMIN_GROUP = 'system:masters';
export const NODES_GROUP = 'system:nodes';
export const FRONT_PROXY_CLIENT = 'front-proxy-client';
/** The users the API server's bootstrap RBAC roles bind for the control plane's own components. */
export const CONTROLLER_MANAGER_USER = 'system:kube-controller-manager';
export const SCHEDULER_USER = 'system:kube-scheduler';

export interface ClusterCertificatesOptions {
  validityDays?: number;
}

/**
 * The cluster's certificate authorities: `ca` (the cluster CA: API server serving and client
 * certificates), `etcd` (etcd serving, peer and client certificates), `proxy` (the front proxy's
 * request-header client), and `sa` (the service-account signing key pair; `cert` is its public key).
 * Made once per cluster; never regenerated while the cluster lives.
 */
export async function generateClusterCertificates(
  opts: ClusterCertificatesOptions = {},
): Promise<ClusterCertificates> {
  const validityDays = opts.validityDays;
  const [ca, etcd, proxy, saKeys] = await Promise.all([
    createCertificateAuthority({ commonName: 'kubernetes', validityDays }),
    createCertificateAuthority({ commonName: 'etcd-ca', validityDays }),
    createCertificateAuthority({ commonName: 'front-proxy-ca', validityDays }),
    generateKeyPair(),
  ]);
  const sa: KeyPair = {
    cert: await publicKeyToPem(saKeys.publicKey),
    key: await privateKeyToPem(saKeys.privateKey),
  };
  return { ca, etcd, proxy, sa };
}

/** The first usable address of an IPv4 CIDR block: the ClusterIP of the `kubernetes` Service. */
export function firstServiceIP(cidr: string): string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) throw new Error(`not an IPv4 CIDR block: '${cidr}'`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 30) throw new Error(`not a usable IPv4 CIDR block: '${cidr}'`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const first = ((address & mask) >>> 0) + 1;
  return [24, 16, 8, 0].map((shift) => (first >>> shift) & 0xff).join('.');
}

export interface ApiServerNames {
  /** The cluster's service DNS domain (cluster.local). */
  serviceDomain: string;
  /** The service CIDR block; its first address is the `kubernetes` Service's ClusterIP. */
  serviceCIDR: string;
  /** More names: a load balancer's DNS name, the machine's host name, ... */
  extraDNSNames?: string[];
  /** More addresses: the machine's IP, a load balancer's IP, ... */
  extraIPs?: string[];
}

/** The subject alternative names of the API server's serving certificate. */
export function apiServerSANs(names: ApiServerNames): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = [
    'localhost',
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    `kubernetes.default.svc.${names.serviceDomain}`,
    ...(names.extraDNSNames ?? []),
  ];
  const ipAddresses = ['127.0.0.1', firstServiceIP(names.serviceCIDR), ...(names.extraIPs ?? [])];
  return { dnsNames: [...new Set(dnsNames)], ipAddresses: [...new Set(ipAddresses)] };
}

export interface ControlPlaneCertificateOptions extends ApiServerNames {
  /** The machine's name: the subject of its etcd server and peer certificates. */
  nodeName: string;
  /** Addresses and names etcd is reached at besides 127.0.0.1 and localhost. */
  etcdExtraIPs?: string[];
  etcdExtraDNSNames?: string[];
  validityDays?: number;
}

/** The leaf certificates one control-plane machine runs with. */
export interface ControlPlaneCertificates {
  /** kube-apiserver serving (cluster CA). */
  apiServer: KeyPair;
  /** kube-apiserver's client certificate to etcd (etcd CA). */
  apiServerEtcdClient: KeyPair;
  /** kube-apiserver's client certificate to kubelets (cluster CA). */
  apiServerKubeletClient: KeyPair;
  /** The aggregation layer's request-header client (front-proxy CA). */
  frontProxyClient: KeyPair;
  /** etcd serving, for clients (etcd CA). */
  etcdServer: KeyPair;
  /** etcd peer, both ends of member-to-member TLS (etcd CA). */
  etcdPeer: KeyPair;
}

export function apiServerProfile(opts: ApiServerNames & { validityDays?: number }): CertificateProfile {
  return {
    commonName: 'kube-apiserver',
    usages: ['serverAuth'],
    ...apiServerSANs(opts),
    validityDays: opts.validityDays,
  };
}

/** Issues every leaf certificate of one control-plane machine. */
export async function issueControlPlaneCertificates(
  certs: ClusterCertificates,
  opts: ControlPlaneCertificateOptions,
): Promise<ControlPlaneCertificates> {
  const validityDays = opts.validityDays;
  const etcdNames = {
    dnsNames: [...new Set(['localhost', opts.nodeName, ...(opts.etcdExtraDNSNames ?? [])])],
    ipAddresses: [...new Set(['127.0.0.1', ...(opts.etcdExtraIPs ?? [])])],
  };
  const [apiServer, apiServerEtcdClient, apiServerKubeletClient, frontProxyClient, etcdServer, etcdPeer] =
    await Promise.all([
      issueCertificate(certs.ca, apiServerProfile(opts)),
      issueCertificate(certs.etcd, {
        commonName: 'kube-apiserver-etcd-client',
        usages: ['clientAuth'],
        validityDays,
      }),
      issueCertificate(certs.ca, {
        commonName: 'kube-apiserver-kubelet-client',
        organizations: [ADMIN_GROUP],
        usages: ['clientAuth'],
        validityDays,
      }),
      issueCertificate(certs.proxy, { commonName: FRONT_PROXY_CLIENT, usages: ['clientAuth'], validityDays }),
      issueCertificate(certs.etcd, {
        commonName: opts.nodeName,
        usages: ['serverAuth', 'clientAuth'],
        ...etcdNames,
        validityDays,
      }),
      issueCertificate(certs.etcd, {
        commonName: opts.nodeName,
        usages: ['serverAuth', 'clientAuth'],
        ...etcdNames,
        validityDays,
      }),
    ]);
  return { apiServer, apiServerEtcdClient, apiServerKubeletClient, frontProxyClient, etcdServer, etcdPeer };
}

/** The cluster administrator's client certificate (CN kubernetes-admin, O system:masters). */
export async function issueAdminCertificate(ca: KeyPair, validityDays?: number): Promise<KeyPair> {
  return await issueCertificate(ca, {
    commonName: ADMIN_USER,
    organizations: [ADMIN_GROUP],
    usages: ['clientAuth'],
    validityDays,
  });
}

/** A node's client certificate (CN system:node:<name>, O system:nodes), as a kubelet would hold. */
export async function issueNodeClientCertificate(
  ca: KeyPair,
  nodeName: string,
  validityDays?: number,
): Promise<KeyPair> {
  return await issueCertificate(ca, {
    commonName: `system:node:${nodeName}`,
    organizations: [NODES_GROUP],
    usages: ['clientAuth'],
    validityDays,
  });
}

/** The client certificate of a control-plane component (CONTROLLER_MANAGER_USER, SCHEDULER_USER). */
export async function issueComponentClientCertificate(
  ca: KeyPair,
  user: typeof CONTROLLER_MANAGER_USER | typeof SCHEDULER_USER,
  validityDays?: number,
): Promise<KeyPair> {
  return await issueCertificate(ca, { commonName: user, usages: ['clientAuth'], validityDays });
}

/** A client certificate for talking to etcd directly (health checks, membership changes). */
export async function issueEtcdClientCertificate(etcdCA: KeyPair, commonName: string, validityDays?: number) {
  return await issueCertificate(etcdCA, { commonName, usages: ['clientAuth'], validityDays });
}
