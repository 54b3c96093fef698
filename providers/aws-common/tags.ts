// Tags: everything the providers create carries the cluster's owned tag, and is found again by it.
// What does not carry it is never modified or deleted.
import { createHash } from 'node:crypto';
import type { Filter, ResourceType, TagSpecification } from '@aws-sdk/client-ec2';

export const OWNED = 'owned';
/** What a resource is for: `vpc`, `subnet-public`, `nat-us-east-1a`, `controlplane`, ... */
export const ROLE_TAG = 'clusterforge.dev/role';
/** The Machine an instance belongs to, and that Machine's UID (a re-made Machine is another one). */
export const MACHINE_TAG = 'clusterforge.dev/machine';
export const MACHINE_UID_TAG = 'clusterforge.dev/machine-uid';
/** `ControlPlane` or `Worker`, on instances. */
export const MACHINE_ROLE_TAG = 'clusterforge.dev/machine-role';
const TAG_KEY_MAX = 128;

export interface ClusterIdentity {
  namespace: string;
  name: string;
  /** The Cluster's metadata.uid; ClientTokens and resource names derive from it. */
  uid: string;
}

/**
 * `clusterforge.dev/cluster/<namespace>.<name>`: unique per cluster (the Kubernetes-style
 * `kubernetes.io/cluster/<name>` is not, across namespaces, so lookups never use it). A key longer
 * than AWS's 128 characters keeps its start and ends in a hash of the whole.
 */
export function clusterTagKey(id: Pick<ClusterIdentity, 'namespace' | 'name'>): string {
  const key = `clusterforge.dev/cluster/${id.namespace}.${id.name}`;
  if (key.length <= TAG_KEY_MAX) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return `${key.slice(0, TAG_KEY_MAX - hash.length - 1)}-${hash}`;
}

/** The tag the Kubernetes AWS cloud provider looks for. */
export const kubernetesClusterTagKey = (name: string): string => `kubernetes.io/cluster/${name}`;

export interface OwnedTagOptions {
  /** The `Name` tag. */
  name: string;
  role?: string;
  /** More of our own tags (machine name, ...). */
  extra?: Record<string, string>;
  /** The user's `additionalTags`; ours win where the keys clash. */
  additional?: Record<string, string>;
}

/** The tags of a resource the cluster owns. */
export function ownedTags(id: ClusterIdentity, opts: OwnedTagOptions): Record<string, string> {
  return {
    ...(opts.additional ?? {}),
    ...(opts.extra ?? {}),
    [clusterTagKey(id)]: OWNED,
    [kubernetesClusterTagKey(id.name)]: OWNED,
    Name: opts.name,
    ...(opts.role ? { [ROLE_TAG]: opts.role } : {}),
  };
}

/** Tags as the AWS APIs take them (`{ Key, Value }` pairs; every service's Tag type accepts these). */
export function toAwsTags(tags: Record<string, string>): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

export function tagsToRecord(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

export function tagSpecification(resourceType: ResourceType, tags: Record<string, string>): TagSpecification {
  return { ResourceType: resourceType, Tags: toAwsTags(tags) };
}

/** EC2 filters that select what the cluster owns, plus more `tag:` filters when given. */
export function ownedFilters(id: ClusterIdentity, more: Record<string, string> = {}): Filter[] {
  return [
    { Name: `tag:${clusterTagKey(id)}`, Values: [OWNED] },
    ...Object.entries(more).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] })),
  ];
}

export function isOwned(
  tags: { Key?: string; Value?: string }[] | Record<string, string> | undefined,
  id: ClusterIdentity,
): boolean {
  const record = Array.isArray(tags) ? tagsToRecord(tags) : (tags ?? {});
  return record[clusterTagKey(id)] === OWNED;
}

export function roleOf(tags: { Key?: string; Value?: string }[] | undefined): string | undefined {
  return tagsToRecord(tags)[ROLE_TAG];
}
