// What the runtime knows of any Kubernetes object, and the `namespace/name` key that names it in caches
// and work queues.

/** The fields of an object the informer relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    deletionTimestamp?: string | Date;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{
      apiVersion?: string;
      kind?: string;
      name?: string;
      uid?: string;
      controller?: boolean;
    }>;
  };
}

export interface ObjectKey {
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
}

/** The cache and queue key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function formatKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function parseKey(key: string): ObjectKey {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function keyOf(obj: KubeObject): string {
  return formatKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}
