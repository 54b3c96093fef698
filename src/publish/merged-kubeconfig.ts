// One kubeconfig file for many clusters, for Helmfile's kubeContext and kubectl --context: each
// cluster's published kubeconfig contributes its cluster, user and context, named uniquely.
import { parse, stringify } from 'yaml';

export interface PublishedKubeconfig {
  namespace: string;
  cluster: string;
  /** The text of the Secret's `value`. */
  kubeconfig: string;
}

interface Named<T> {
  name: string;
  [key: string]: T | string;
}

/**
 * Merges the kubeconfigs. A cluster is named `<cluster>`, its user `<cluster>-admin` and its context
 * `<cluster>-admin@<cluster>`, as each published file already names them; when the same cluster name
 * is found in two namespaces, both are qualified as `<cluster>.<namespace>` so that no name is shared.
 */
export function mergeKubeconfigs(items: PublishedKubeconfig[]): string {
  const sorted = [...items].sort(
    (a, b) => a.cluster.localeCompare(b.cluster) || a.namespace.localeCompare(b.namespace),
  );
  const count = new Map<string, number>();
  for (const item of sorted) count.set(item.cluster, (count.get(item.cluster) ?? 0) + 1);
  const clusters: Named<unknown>[] = [];
  const users: Named<unknown>[] = [];
  const contexts: Named<unknown>[] = [];
  for (const item of sorted) {
    const doc = parse(item.kubeconfig);
    const cluster = doc?.clusters?.[0]?.cluster;
    const user = doc?.users?.[0]?.user;
    if (!cluster || !user)
      throw new Error(`the kubeconfig of ${item.namespace}/${item.cluster} has no cluster or user`);
    const name = (count.get(item.cluster) ?? 0) > 1 ? `${item.cluster}.${item.namespace}` : item.cluster;
    const userName = `${name}-admin`;
    clusters.push({ name, cluster });
    users.push({ name: userName, user });
    contexts.push({
      name: `${userName}@${name}`,
      context: { cluster: name, user: userName, namespace: 'default' },
    });
  }
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters,
      users,
      contexts,
      'current-context': contexts[0]?.name ?? '',
      preferences: {},
    },
    { lineWidth: 0 },
  );
}
