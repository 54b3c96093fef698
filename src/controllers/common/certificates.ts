// The cluster's certificate authorities in Secrets <cluster>-ca, -etcd, -sa, -proxy (keys tls.crt and
// tls.key): generated once, never regenerated while the cluster lives, read once per operator run.
import type { V1Secret } from '@kubernetes/client-node';
import type { Cluster } from '../../api/v1alpha1/index.js';
import {
  CAPI_CLUSTER_NAME_LABEL,
  CLUSTER_NAME_LABEL,
  controllerOwnerRef,
} from '../../api/v1alpha1/labels.js';
import type { ObjectWriter } from '../../kube/writer.js';
import { generateClusterCertificates } from '../../pki/cluster.js';
import type { ClusterCertificates, KeyPair } from '../../provider/contract.js';

const PURPOSES = ['ca', 'etcd', 'sa', 'proxy'] as const;
type Purpose = (typeof PURPOSES)[number];

export const certificateSecretNames = (clusterName: string): string[] =>
  PURPOSES.map((p) => `${clusterName}-${p}`);

export class CertificateStore {
  /** By cluster UID: a new cluster of the same name never sees an old cluster's keys. */
  private readonly cache = new Map<string, ClusterCertificates>();

  constructor(private readonly writer: ObjectWriter) {}

  /** Reads the certificates, or undefined when any Secret is missing. */
  async load(cluster: Cluster): Promise<ClusterCertificates | undefined> {
    const uid = cluster.metadata.uid!;
    const cached = this.cache.get(uid);
    if (cached) return cached;
    const pairs: Partial<Record<Purpose, KeyPair>> = {};
    for (const purpose of PURPOSES) {
      const secret = await this.writer.readSecret(
        cluster.metadata.namespace!,
        `${cluster.metadata.name}-${purpose}`,
      );
      const pair = secret && keyPairOf(secret);
      if (!pair) return undefined;
      pairs[purpose] = pair;
    }
    const certs = pairs as ClusterCertificates;
    this.cache.set(uid, certs);
    return certs;
  }

  /** Creates the Secrets that are missing (only those), then reads all of them. */
  async ensure(cluster: Cluster): Promise<ClusterCertificates> {
    const existing = await this.load(cluster);
    if (existing) return existing;
    const fresh = await generateClusterCertificates();
    const pairs: Partial<Record<Purpose, KeyPair>> = {};
    for (const purpose of PURPOSES) {
      // createSecret leaves an existing Secret alone: what exists is never regenerated, and is read.
      // What we just created we hold already; reading it back would be a request per Secret for nothing.
      if (await this.writer.createSecret(secretFor(cluster, purpose, fresh[purpose]))) {
        pairs[purpose] = fresh[purpose];
        continue;
      }
      const secret = await this.writer.readSecret(
        cluster.metadata.namespace!,
        `${cluster.metadata.name}-${purpose}`,
      );
      const pair = secret && keyPairOf(secret);
      if (!pair)
        throw new Error(`cluster ${cluster.metadata.name}: certificate Secrets vanished while being created`);
      pairs[purpose] = pair;
    }
    const certs = pairs as ClusterCertificates;
    this.cache.set(cluster.metadata.uid!, certs);
    return certs;
  }

  forget(cluster: Cluster): void {
    this.cache.delete(cluster.metadata.uid!);
  }
}

function keyPairOf(secret: V1Secret): KeyPair | undefined {
  const cert = secret.data?.['tls.crt'];
  const key = secret.data?.['tls.key'];
  if (!cert || !key) return undefined;
  return {
    cert: Buffer.from(cert, 'base64').toString('utf8'),
    key: Buffer.from(key, 'base64').toString('utf8'),
  };
}

function secretFor(cluster: Cluster, purpose: Purpose, pair: KeyPair): V1Secret {
  const name = cluster.metadata.name!;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'cluster.x-k8s.io/secret',
    metadata: {
      name: `${name}-${purpose}`,
      namespace: cluster.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: name, [CAPI_CLUSTER_NAME_LABEL]: name },
      ownerReferences: [controllerOwnerRef(cluster)],
    },
    stringData: { 'tls.crt': pair.cert, 'tls.key': pair.key },
  };
}
