// Cloud-init user data that bootstraps a machine with kubeadm:
// - the first control-plane machine runs `kubeadm init`,
// - other control-plane machines `kubeadm join --control-plane`,
// - workers `kubeadm join`.
// Control-plane machines carry the cluster's CA material (keys included), so every one of them signs
// with the same CAs the operator holds; workers carry no key at all, only the CA's public-key hash and
// the machine's own join token (join-tokens/: short-lived, one per machine). The user data is a jinja template for cloud-init: the node name, provider ID and
// address come from the instance metadata at boot.
import { createHash, X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import type { ClusterCertificates } from '../../src/provider/contract.js';

export type BootstrapRole = 'init' | 'joinControlPlane' | 'joinWorker';

export const KUBEADM_API_VERSION = 'kubeadm.k8s.io/v1beta4';
export const KUBEADM_CONFIG_PATH = '/run/kubeadm/kubeadm.yaml';
/** Cluster API's convention: the file that says the bootstrap finished. */
export const BOOTSTRAP_SENTINEL = '/run/cluster-api/bootstrap-success.complete';
/** EC2's limit on user data, before base64. */
export const USER_DATA_LIMIT = 16 * 1024;

export interface BootstrapInput {
  role: BootstrapRole;
  clusterName: string;
  kubernetesVersion: string;
  /** The API server's load balancer. */
  endpoint: { host: string; port: number };
  podCIDR: string;
  serviceCIDR: string;
  serviceDomain: string;
  certificates: ClusterCertificates;
  /** The machine's bootstrap token (`abcdef.0123456789abcdef`): its join token, or init's own. */
  token: string;
  /** For `init`: how long the token kubeadm init makes from `token` is valid (`900s`). */
  tokenTTL: string;
}

/** `sha256:<hex>` of the CA certificate's SubjectPublicKeyInfo, as kubeadm's caCertHashes want. */
export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

const arg = (name: string, value: string) => ({ name, value });

function nodeRegistration() {
  return {
    name: '{{ ds.meta_data.local_hostname }}',
    kubeletExtraArgs: [
      // The AWS cloud-controller-manager initialises the node; the provider ID is ours from the start.
      arg('cloud-provider', 'external'),
      arg('provider-id', 'aws:///{{ v1.availability_zone }}/{{ v1.instance_id }}'),
    ],
  };
}

function kubeadmDocuments(input: BootstrapInput): object[] {
  const endpoint = `${input.endpoint.host}:${input.endpoint.port}`;
  if (input.role === 'init') {
    return [
      {
        apiVersion: KUBEADM_API_VERSION,
        kind: 'InitConfiguration',
        bootstrapTokens: [
          {
            token: input.token,
            // Short-lived (else kubeadm's default token lives 24 h): joins use tokens of their own.
            description: 'clusterforge: made by kubeadm init, used by no join',
            ttl: input.tokenTTL,
            usages: ['signing', 'authentication'],
            groups: ['system:bootstrappers:kubeadm:default-node-token'],
          },
        ],
        localAPIEndpoint: { advertiseAddress: '{{ ds.meta_data.local_ipv4 }}', bindPort: 6443 },
        nodeRegistration: nodeRegistration(),
      },
      {
        apiVersion: KUBEADM_API_VERSION,
        kind: 'ClusterConfiguration',
        clusterName: input.clusterName,
        kubernetesVersion: input.kubernetesVersion,
        controlPlaneEndpoint: endpoint,
        networking: {
          podSubnet: input.podCIDR,
          serviceSubnet: input.serviceCIDR,
          dnsDomain: input.serviceDomain,
        },
        apiServer: { certSANs: [input.endpoint.host] },
      },
    ];
  }
  const join: Record<string, unknown> = {
    apiVersion: KUBEADM_API_VERSION,
    kind: 'JoinConfiguration',
    discovery: {
      bootstrapToken: {
        apiServerEndpoint: endpoint,
        token: input.token,
        caCertHashes: [caCertHash(input.certificates.ca.cert)],
      },
    },
    nodeRegistration: nodeRegistration(),
  };
  if (input.role === 'joinControlPlane') {
    join.controlPlane = {
      localAPIEndpoint: { advertiseAddress: '{{ ds.meta_data.local_ipv4 }}', bindPort: 6443 },
    };
  }
  return [join];
}

interface WriteFile {
  path: string;
  owner: string;
  permissions: string;
  content: string;
}

const file = (path: string, content: string, permissions = '0600'): WriteFile => ({
  path,
  owner: 'root:root',
  permissions,
  content,
});

/** The CA files kubeadm expects on a control-plane machine (it signs its own leaves with them). */
function controlPlanePki(certs: ClusterCertificates): WriteFile[] {
  const pki = '/etc/kubernetes/pki';
  return [
    file(`${pki}/ca.crt`, certs.ca.cert, '0644'),
    file(`${pki}/ca.key`, certs.ca.key),
    file(`${pki}/etcd/ca.crt`, certs.etcd.cert, '0644'),
    file(`${pki}/etcd/ca.key`, certs.etcd.key),
    file(`${pki}/front-proxy-ca.crt`, certs.proxy.cert, '0644'),
    file(`${pki}/front-proxy-ca.key`, certs.proxy.key),
    file(`${pki}/sa.pub`, certs.sa.cert, '0644'),
    file(`${pki}/sa.key`, certs.sa.key),
  ];
}

/** The cloud-config (not yet base64-encoded). */
export function renderUserData(input: BootstrapInput): string {
  const config = kubeadmDocuments(input)
    .map((doc) => stringify(doc, { lineWidth: 0 }))
    .join('---\n');
  const files = [
    ...(input.role === 'joinWorker' ? [] : controlPlanePki(input.certificates)),
    file(KUBEADM_CONFIG_PATH, config),
  ];
  const command = input.role === 'init' ? 'kubeadm init' : 'kubeadm join';
  const cloudConfig = {
    write_files: files,
    runcmd: [
      `${command} --config ${KUBEADM_CONFIG_PATH} && mkdir -p /run/cluster-api && echo success > ${BOOTSTRAP_SENTINEL}`,
    ],
  };
  return `## template: jinja\n#cloud-config\n${stringify(cloudConfig, { lineWidth: 0 })}`;
}
