// The contract every infrastructure provider implements (providers/<name>/).
// Every call is idempotent and quick: it starts work, reports progress, and never blocks until done.
import type { Logger } from 'pino';
import type {
  Cluster,
  ControlPlane,
  Machine,
  MachineDeployment,
  MachineTemplate,
} from '../api/v1alpha1/index.js';
import type { VersionRange } from './versions.js';

/** The outcome of one provider call. */
export type Progress =
  | { state: 'done' }
  | {
      state: 'inProgress';
      requeueAfterMs: number;
      message: string;
      /** Why it waits, when that is worth a condition reason of its own (`Throttled`); else the caller's. */
      reason?: string;
    }
  | { state: 'failed'; reason: string; message: string };

export const done = (): Progress => ({ state: 'done' });
export const inProgress = (message: string, requeueAfterMs = 2_000, reason?: string): Progress => ({
  state: 'inProgress',
  requeueAfterMs,
  message,
  ...(reason ? { reason } : {}),
});
export const failed = (reason: string, message: string): Progress => ({ state: 'failed', reason, message });

/** PEM material of one key pair, as kept in the <cluster>-ca / -etcd / -sa / -proxy Secrets. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** The cluster's certificate authorities, generated once and kept in Secrets while the cluster lives. */
export interface ClusterCertificates {
  ca: KeyPair;
  etcd: KeyPair;
  /** The service-account signing key pair (`cert` holds the public key PEM). */
  sa: KeyPair;
  proxy: KeyPair;
}

/** What a provider call may read: the objects as the cache has them, and the cluster's PKI. */
export interface ClusterContext {
  cluster: Cluster;
  /** Present for self-managed clusters once the Cluster controller has ensured the PKI. */
  certificates?: ClusterCertificates;
  log: Logger;
}

export interface InfrastructureStatus {
  progress: Progress;
  /** Known once the endpoint (load balancer, loopback port, EKS endpoint) is allocated. */
  endpoint?: { host: string; port: number };
}

export interface MachineContext extends ClusterContext {
  machine: Machine;
  template: MachineTemplate;
  /** The other machines of the same role that exist now (for etcd membership, join tokens, ...). */
  peers: Machine[];
  /** The control plane's endpoint, once known. */
  endpoint?: { host: string; port: number };
}

export interface MachineStatusReport {
  progress: Progress;
  providerID?: string;
  addresses?: {
    type: 'Hostname' | 'ExternalIP' | 'InternalIP' | 'ExternalDNS' | 'InternalDNS';
    address: string;
  }[];
  /** The machine serves its role: a control-plane member answers, or a worker's Node is Ready. */
  ready: boolean;
  nodeName?: string;
}

/** Kubeconfig material for the published `<cluster>-kubeconfig` Secret. */
export interface KubeconfigMaterial {
  server: string;
  caData: string;
  /** Either a client certificate or a bearer token. */
  clientCertData?: string;
  clientKeyData?: string;
  token?: string;
  /** When the credential was made and when it stops working, so it can be rewritten before then. */
  issuedAt?: Date;
  expiresAt?: Date;
  /**
   * For people: a kubeconfig user that runs this credential plug-in (client.authentication.k8s.io/v1beta1)
   * instead of holding a token, published as `<cluster>-user-kubeconfig`. EKS: `aws eks get-token`.
   */
  userExec?: { command: string; args: string[]; env?: { name: string; value: string }[] };
  /** A managed cluster's identity in its cloud, for tools that reach it with their own cloud identity. */
  managed?: {
    provider: 'aws';
    clusterName: string;
    arn: string;
    region: string;
    /** The API endpoint exactly as the cloud lists it (Flux compares addresses as text). */
    endpoint: string;
  };
}

/** A managed control plane as its provider reports it. */
export interface ManagedControlPlaneStatus extends InfrastructureStatus {
  /** The Kubernetes version it serves now (EKS reports a minor version: `v1.36`). */
  version?: string;
}

/** A managed node pool (an EKS node group) as its provider reports it. */
export interface NodePoolStatus {
  progress: Progress;
  /** Nodes the pool has now, ready ones, and ones at the version and template asked for. */
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
  /** The Kubernetes version its nodes run. */
  version?: string;
}

export interface InfrastructureProvider {
  readonly name: 'local' | 'aws-ec2' | 'aws-eks' | 'inmemory';
  /** Whether the provider runs the control plane itself as machines (true) or as a managed service. */
  readonly selfManagedControlPlane: boolean;
  /** The oldest Kubernetes release it bootstraps; absent: no floor of its own (docs/api-validation.md). */
  readonly kubernetesVersions?: VersionRange;
  /** The prefix of the pod block each node takes (kubeadm's /24); absent: nodes take none of it. */
  readonly podBlockPerNode?: number;
  /**
   * Whether a workload cluster's API answers at the endpoint the provider reports. False for a
   * simulated cluster (inmemory): nothing may try to reach into it (ServiceAccounts, TokenRequests).
   */
  readonly servesWorkloadAPI: boolean;
  /**
   * Whether a control-plane machine registers a Node (a kubelet runs on it, as on a kubeadm machine).
   * The local provider's do not: a health check then judges them by the provider's report alone.
   */
  readonly controlPlaneNodes?: boolean;
  /**
   * The provider ID a machine of that name will have, where it follows from names alone (inmemory,
   * local): the Machine is then created with it, a write less than patching it in after the first
   * report. Absent where the infrastructure assigns it (an EC2 instance ID).
   */
  providerIDFor?(cluster: Cluster, machineName: string): string;

  ensureInfrastructure(ctx: ClusterContext): Promise<InfrastructureStatus>;
  deleteInfrastructure(ctx: ClusterContext): Promise<Progress>;

  ensureMachine(ctx: MachineContext): Promise<MachineStatusReport>;
  deleteMachine(ctx: MachineContext): Promise<Progress>;

  kubeconfig(ctx: ClusterContext): Promise<KubeconfigMaterial>;

  /** Managed control planes (EKS) only. */
  ensureManagedControlPlane?(
    ctx: ClusterContext,
    controlPlane: ControlPlane,
  ): Promise<ManagedControlPlaneStatus>;
  deleteManagedControlPlane?(ctx: ClusterContext, controlPlane: ControlPlane): Promise<Progress>;
  ensureNodePool?(
    ctx: ClusterContext,
    pool: MachineDeployment,
    template: MachineTemplate,
  ): Promise<NodePoolStatus>;
  deleteNodePool?(ctx: ClusterContext, pool: MachineDeployment): Promise<Progress>;
}
