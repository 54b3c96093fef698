// How the operator reaches a self-managed cluster's etcd: as Cluster API's KubeadmControlPlane does,
// through the workload cluster's API server, with a port-forward to the member's static pod
// (kube-system/etcd-<nodeName>, as kubeadm names it) on port 2379, and a client certificate from the
// cluster's etcd CA (the one the user data hands kubeadm). etcd is never opened to the network.
// A member's client URL is https://<nodeName>:2379: kubeadm's etcd serving certificate names the
// node, so TLS proves the pod is that node's member.
import type { Machine } from '../../../src/api/v1alpha1/index.js';
import { EtcdGateway } from '../../../src/etcd/gateway.js';
import { portForwardStream } from '../../../src/kube/port-forward.js';
import type { TlsIdentity } from '../../../src/net/https.js';
import { expiresWithin, issueEtcdClientCertificate } from '../../../src/pki/index.js';
import type { KeyPair } from '../../../src/provider/contract.js';
import type { KubeConfigSource } from '../../../src/runtime/kubeconfig-source.js';

export const ETCD_NAMESPACE = 'kube-system';
export const ETCD_CLIENT_PORT = 2379;
const CLIENT_NAME = 'clusterforge-etcd-client';
const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

export const etcdPodName = (nodeName: string): string => `etcd-${nodeName}`;
export const memberURL = (nodeName: string): string => `https://${nodeName}:${ETCD_CLIENT_PORT}`;

/** The node a machine's kubelet registers as: kubeadm's default, the instance's private DNS name. */
export function nodeNameOf(machine: Machine): string | undefined {
  return (
    machine.status?.nodeRef?.name ??
    machine.status?.addresses?.find((a) => a.type === 'Hostname' || a.type === 'InternalDNS')?.address
  );
}

export function internalIPOf(machine: Machine): string | undefined {
  return machine.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
}

/** The host of a member's first peer URL (kubeadm advertises the node's address there). */
export function peerHost(urls: string[] | undefined): string | undefined {
  const first = urls?.[0];
  if (!first) return undefined;
  try {
    return new URL(first).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

/** A gateway whose every connection is a port-forward to the member's pod. */
export function portForwardedGateway(kubeConfig: KubeConfigSource, identity: TlsIdentity): EtcdGateway {
  return new EtcdGateway(
    identity,
    async (clientURL) => {
      const url = new URL(clientURL);
      return await portForwardStream(kubeConfig, {
        namespace: ETCD_NAMESPACE,
        pod: etcdPodName(url.hostname),
        port: Number(url.port || ETCD_CLIENT_PORT),
      });
    },
    10_000,
  );
}

/** The operator's etcd client identity per cluster, issued once from the etcd CA and kept in memory. */
export class EtcdIdentities {
  private readonly byCluster = new Map<string, TlsIdentity>();

  async of(clusterUid: string, etcdCA: KeyPair): Promise<TlsIdentity> {
    const known = this.byCluster.get(clusterUid);
    if (known && known.ca === etcdCA.cert && !expiresWithin(known.cert, RENEW_BEFORE_MS)) return known;
    const issued = await issueEtcdClientCertificate(etcdCA, CLIENT_NAME);
    const identity = { ca: etcdCA.cert, ...issued };
    this.byCluster.set(clusterUid, identity);
    return identity;
  }

  forget(clusterUid: string): void {
    this.byCluster.delete(clusterUid);
  }
}
