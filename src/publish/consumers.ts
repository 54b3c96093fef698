import { workloadAdminClient } from '../kube/workload-client.js';
import { ObjectWriter } from '../kube/writer.js';
import type { KubeconfigMaterial } from '../provider/contract.js';
import { type KubeClient, resourcePath } from '../runtime/transport.js';
import {
  type ConsumerRole,
  type Credential,
  kindRef,
  type PolicyRule,
  type TokenSource,
} from './publisher.js';

export const CONSUMER_NAMESPACE = 'clusterforge-consumers';
/** The ClusterRole and ClusterRoleBinding of a consumer. */
export const consumerRoleName = (role: ConsumerRole): string =>
  `clusterforge:consumer:${role.serviceAccount}`;

const NAMESPACES = kindRef('v1', 'Namespace', 'namespaces');
const SERVICE_ACCOUNTS = kindRef('v1', 'ServiceAccount', 'serviceaccounts');
const CLUSTER_ROLES = kindRef('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles');
const CLUSTER_ROLE_BINDINGS = kindRef(
  'rbac.authorization.k8s.io/v1',
  'ClusterRoleBinding',
  'clusterrolebindings',
);

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'clusterforge' };

/** Everything, as Argo CD's `argocd-manager`, Fleet's and Karmada's push-mode identities need. */
export const CLUSTER_ADMIN_RULES: PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['*'] },
];

/** A consumer that may do anything in the workload cluster (Argo CD, Fleet, Karmada, Flux; see docs/publishing.md). */
export const clusterAdmin = (serviceAccount: string): ConsumerRole => ({
  serviceAccount,
  rules: CLUSTER_ADMIN_RULES,
  access: 'cluster-admin',
});

const READ = ['get', 'list', 'watch'];

/**
 * What an Istio control plane reads from a remote cluster: the read rules of Istio's own
 * `istio-reader` ClusterRole, and nothing that writes (its tokenreviews and subjectaccessreviews
 * `create` rules are left out; see docs/publishing.md).
 */
export const ISTIO_READER_RULES: PolicyRule[] = [
  {
    apiGroups: [
      'config.istio.io',
      'security.istio.io',
      'networking.istio.io',
      'authentication.istio.io',
      'rbac.istio.io',
      'telemetry.istio.io',
      'extensions.istio.io',
    ],
    resources: ['*'],
    verbs: READ,
  },
  {
    apiGroups: [''],
    resources: ['endpoints', 'pods', 'services', 'nodes', 'replicationcontrollers', 'namespaces', 'secrets'],
    verbs: READ,
  },
  { apiGroups: ['networking.x-k8s.io', 'gateway.networking.k8s.io'], resources: ['*'], verbs: READ },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  { apiGroups: ['multicluster.x-k8s.io'], resources: ['serviceexports', 'serviceimports'], verbs: READ },
  { apiGroups: ['apps'], resources: ['replicasets'], verbs: READ },
];

interface TokenRequestStatus {
  status?: { token?: string; expirationTimestamp?: string };
}

/** The consumers' identities in one workload cluster, reached as its admin. */
export class WorkloadTokens implements TokenSource {
  private readonly writer: ObjectWriter;

  constructor(
    private readonly client: KubeClient,
    private readonly ttlSeconds: number,
  ) {
    this.writer = new ObjectWriter(client, 'clusterforge');
  }

  static fromAdmin(material: KubeconfigMaterial, ttlSeconds: number): WorkloadTokens {
    return new WorkloadTokens(workloadAdminClient(material, 'clusterforge-publisher'), ttlSeconds);
  }

  /** Makes (or repairs) the consumer's ServiceAccount and RBAC, then asks for a token. */
  async issue(role: ConsumerRole): Promise<Credential> {
    await this.ensureIdentity(role);
    const issuedAt = new Date();
    const answer = await this.client.request<TokenRequestStatus>({
      method: 'POST',
      path: resourcePath(SERVICE_ACCOUNTS, {
        namespace: CONSUMER_NAMESPACE,
        name: role.serviceAccount,
        subresource: 'token',
      }),
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: this.ttlSeconds },
      },
    });
    const token = answer.status?.token;
    const expires = Date.parse(answer.status?.expirationTimestamp ?? '');
    if (!token || Number.isNaN(expires)) throw new Error('the TokenRequest answer holds no token');
    return { token, issuedAt, expiresAt: new Date(expires) };
  }

  async revoke(role: ConsumerRole): Promise<void> {
    const name = consumerRoleName(role);
    await this.writer.deleteObject(CLUSTER_ROLE_BINDINGS, undefined, name);
    await this.writer.deleteObject(CLUSTER_ROLES, undefined, name);
    // Tokens are bound to the ServiceAccount's UID: with it gone, none of them authenticates.
    await this.writer.deleteObject(SERVICE_ACCOUNTS, CONSUMER_NAMESPACE, role.serviceAccount);
  }

  private async ensureIdentity(role: ConsumerRole): Promise<void> {
    const name = consumerRoleName(role);
    const meta = { labels: { ...MANAGED_BY, 'clusterforge.dev/consumer-access': role.access } };
    await this.writer.apply(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: CONSUMER_NAMESPACE, labels: MANAGED_BY },
    });
    await this.writer.apply(SERVICE_ACCOUNTS, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: role.serviceAccount, namespace: CONSUMER_NAMESPACE, ...meta },
    });
    await this.writer.apply(CLUSTER_ROLES, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, ...meta },
      rules: role.rules,
    });
    await this.writer.apply(CLUSTER_ROLE_BINDINGS, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, ...meta },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'ServiceAccount', name: role.serviceAccount, namespace: CONSUMER_NAMESPACE }],
    });
  }
}
