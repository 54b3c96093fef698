// What a publisher is: it registers one cluster with one tool downstream (Argo CD, Fleet, Karmada,
// Istio), keeps that registration current, and takes it away again. The Cluster API Secret
// `<cluster>-kubeconfig` is not one of them: it is always written (kubeconfig-secret.ts).
import type { Cluster } from '../api/v1alpha1/index.js';
import type { PublishTarget } from '../api/v1alpha1/publish.js';
import type { KubeconfigMaterial } from '../provider/contract.js';
import type { ResourceRef } from '../runtime/transport.js';

export type { PublishTarget } from '../api/v1alpha1/publish.js';

/** The Cluster's condition of a target: `ArgoCDPublished`, `FleetPublished`, ... */
export const conditionTypeOf = (target: PublishTarget): string =>
  `${target.charAt(0).toUpperCase()}${target.slice(1)}Published`;
/** The value of the publisher label on what a target writes: the key in lower case (`argocd`, `fleet`, ...). */
export const publisherIdOf = (target: PublishTarget): string => target.toLowerCase();

// Objects written outside the Cluster's namespace cannot carry an owner reference to it: these
// labels say whose they are, and the publishers find them again by them.
export { CLUSTER_NAME_LABEL } from '../api/v1alpha1/labels.js';
export const CLUSTER_NAMESPACE_LABEL = 'clusterforge.dev/cluster-namespace';
/** Which publisher wrote the object (`argocd`, `fleet`, `karmada`, `istio`, `flux`). */
export const PUBLISHER_LABEL = 'clusterforge.dev/publisher';

/** A digest of everything the object says except its credential: a change means rewrite it. */
export const INPUTS_ANNOTATION = 'clusterforge.dev/publish-inputs';

/** A resource with the kind its objects carry. */
export interface KindRef extends ResourceRef {
  kind: string;
}

/** The resource of objects with this apiVersion (`v1`, `rbac.authorization.k8s.io/v1`) and kind. */
export function kindRef(apiVersion: string, kind: string, plural: string): KindRef {
  const slash = apiVersion.lastIndexOf('/');
  return {
    group: apiVersion.slice(0, Math.max(slash, 0)),
    version: apiVersion.slice(slash + 1),
    plural,
    kind,
  };
}

export const SECRETS = kindRef('v1', 'Secret', 'secrets');
export const CONFIG_MAPS = kindRef('v1', 'ConfigMap', 'configmaps');

/** One RBAC rule, as in rbac.authorization.k8s.io/v1 PolicyRule. */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

/**
 * The identity a tool gets in the workload cluster: a ServiceAccount of its own in the namespace
 * `clusterforge-consumers`, bound to a ClusterRole with these rules. Never the admin certificate.
 */
export interface ConsumerRole {
  /** The ServiceAccount's name; the ClusterRole and its binding are `clusterforge:consumer:<name>`. */
  serviceAccount: string;
  rules: PolicyRule[];
  /** Said in conditions and docs. */
  access: 'read-only' | 'cluster-admin';
}

/** A bearer token for a consumer, from the TokenRequest API. */
export interface Credential {
  token: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Mints (and takes back) the consumers' credentials in one workload cluster. */
export interface TokenSource {
  issue(role: ConsumerRole): Promise<Credential>;
  /** Deletes the consumer's ServiceAccount and RBAC: every token it was given stops working. */
  revoke(role: ConsumerRole): Promise<void>;
}

/** What a publisher needs to know of the workload cluster. */
export interface PublishMaterial {
  /** https://host:port of the cluster's API server. */
  server: string;
  /** The cluster CA certificate, PEM. */
  caPEM: string;
  /** A managed cluster's cloud identity (EKS), for tools that reach it with their own cloud identity. */
  managed?: KubeconfigMaterial['managed'];
  tokens: TokenSource;
  now: Date;
  /** A credential is re-issued once it has lived this fraction of its life. */
  refreshAfter: number;
}

/** What one publisher's ensure or remove came to; it becomes the `<Target>Published` condition. */
export type PublishOutcome =
  | {
      state: 'published';
      /** Objects written or found current, as `Kind namespace/name`. */
      objects: string[];
      /** For the condition: what was written and with which identity. */
      message: string;
      /** When the credential must be re-issued; the reconcile is requeued for then. */
      refreshAt: Date;
      expiresAt: Date;
      /** Whether this reconcile wrote anything. */
      wrote: boolean;
    }
  | { state: 'failed'; reason: string; message: string; retryAfterMs: number }
  | { state: 'withdrawn'; removed: string[] };

export interface Publisher {
  readonly target: PublishTarget;
  /** `ArgoCDPublished`, `FleetPublished`, ... */
  readonly conditionType: string;
  /** Writes or refreshes the registration of the cluster. Never throws: failures are outcomes. */
  ensure(cluster: Cluster, material: PublishMaterial): Promise<PublishOutcome>;
  /**
   * Removes every object this publisher wrote for the cluster (found by labels, in any namespace),
   * and, when `tokens` is given, revokes the consumer's identity in the workload cluster.
   */
  remove(cluster: Cluster, tokens?: TokenSource): Promise<PublishOutcome>;
}
