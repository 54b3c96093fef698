// Every write the controllers make, in one place: status, finalizers, children, the few spec fields
// the operator owns. Status goes through the status subresource as a JSON merge patch of only what
// changed, so a controller never rewrites what the user owns and an idle cluster makes no writes.
// Requests go through the runtime's KubeClient, so /metrics counts them with the informers' own.
import type { V1Secret } from '@kubernetes/client-node';
import { crashArmed, crashPointNamed } from '../crash/points.js';
import { isConflict, isNotFound } from '../runtime/errors.js';
import { type KubeClient, type ResourceRef, resourcePath } from '../runtime/transport.js';
import { mergePatchOf } from './merge-patch.js';
import { apiVersionOf, type Resource, resources } from './resources.js';

interface Named {
  metadata: { name?: string; namespace?: string; resourceVersion?: string; finalizers?: string[] };
}

/** A whole object as server-side apply takes it: apiVersion, kind, metadata.name, the fields we own. */
export interface AppliedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [field: string]: unknown };
  [field: string]: unknown;
}

const MERGE_PATCH = 'application/merge-patch+json';
const APPLY_PATCH = 'application/apply-patch+yaml';

/** The Secrets an informer holds (ours, by label): read from memory instead of a GET per reconcile. */
export type SecretCache = (namespace: string, name: string) => V1Secret | undefined;

/** The cached Secrets of one namespace with all of `labels`, or undefined while the cache cannot say. */
export type SecretLister = (namespace: string, labels: Record<string, string>) => V1Secret[] | undefined;

/** Told of the API server's answer to each of our writes (the object as it is now), e.g. to update a cache. */
export type WriteObserver = (resource: ResourceRef, answer: unknown) => void;

export class ObjectWriter {
  private secretCache: SecretCache | undefined;
  private secretLister: SecretLister | undefined;
  private observer: WriteObserver | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly fieldManager = 'clusterforge',
  ) {}

  /**
   * Serve readSecret from `cache` where it has the Secret. A Secret it lacks (not ours, or not seen yet)
   * is still read from the API, so a miss costs what it cost before and is never taken for "absent".
   */
  useSecretCache(cache: SecretCache, lister?: SecretLister): void {
    this.secretCache = cache;
    this.secretLister = lister;
  }

  /**
   * Our Secrets in `namespace` with all of `labels`: from the cache once it has synced (it holds every
   * Secret with the cluster label, and our own creates at once), else one list from the API.
   */
  async listSecrets(namespace: string, labels: Record<string, string>): Promise<V1Secret[]> {
    const cached = this.secretLister?.(namespace, labels);
    if (cached) return cached;
    const labelSelector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    return this.list<V1Secret>(resources.Secret, { namespace, labelSelector });
  }

  /** Tell `observer` of every object a write of ours returns (the informers' read-your-writes). */
  observeWrites(observer: WriteObserver): void {
    this.observer = observer;
  }

  private observed<T>(resource: ResourceRef, answer: T): T {
    if (answer && typeof answer === 'object') this.observer?.(resource, answer);
    return answer;
  }

  async create<T extends Named>(resource: Resource, obj: T): Promise<T> {
    const created = await this.client.request<T>({
      method: 'POST',
      path: resourcePath(resource, { namespace: obj.metadata.namespace }),
      query: { fieldManager: this.fieldManager },
      body: { apiVersion: apiVersionOf(resource), kind: resource.kind, ...obj },
    });
    this.observed(resource, created);
    if (crashArmed) crashPointNamed(`kube-create:${resource.kind}`);
    return created;
  }

  /** Deletes, treating "already gone" as success. Returns whether the object existed. */
  async delete(resource: Resource, namespace: string, name: string): Promise<boolean> {
    return this.deleteObject(resource, namespace, name);
  }

  /**
   * Turns `before` (the status as cached) into `after` through the status subresource, with a merge
   * patch of just the differences. Returns false, making no request, when there are none.
   */
  async patchStatus(
    resource: Resource,
    namespace: string,
    name: string,
    after: object,
    before: object = {},
    resourceVersion?: string,
  ): Promise<boolean> {
    const status = mergePatchOf(before, after);
    if (status === undefined) return false;
    try {
      const answer = await this.client.request({
        method: 'PATCH',
        path: resourcePath(resource, { namespace, name, subresource: 'status' }),
        query: { fieldManager: this.fieldManager },
        body: resourceVersion ? { metadata: { resourceVersion }, status } : { status },
        contentType: MERGE_PATCH,
      });
      this.observed(resource, answer);
    } catch (err) {
      // The object went away since the cache saw it (a finished delete): there is no status to write.
      if (isNotFound(err)) return false;
      throw err;
    }
    if (crashArmed) crashPointNamed(`status:${resource.kind}`);
    return true;
  }

  /** patchStatus for an object as the cache holds it: its name, and its cached status as `before`. */
  async writeStatus<S extends object>(
    resource: Resource,
    obj: Named & { status?: S },
    after: S,
  ): Promise<boolean> {
    return this.patchStatus(resource, obj.metadata.namespace!, obj.metadata.name!, after, obj.status ?? {});
  }

  /**
   * writeStatus that fails with 409 when the object changed since the cache saw it: for a status two
   * controllers write (a Machine's conditions: its own controller, and its owner's health check), where a
   * merge patch of the whole conditions list from a stale copy would undo the other's write.
   */
  async writeStatusIfUnchanged<S extends object>(
    resource: Resource,
    obj: Named & { status?: S },
    after: S,
  ): Promise<boolean> {
    const { namespace, name, resourceVersion } = obj.metadata;
    return this.patchStatus(resource, namespace!, name!, after, obj.status ?? {}, resourceVersion);
  }

  /** A merge patch of the main resource; a resourceVersion in the body makes it conditional. */
  async patch(resource: Resource, namespace: string, name: string, body: object): Promise<unknown> {
    const answer = await this.client.request({
      method: 'PATCH',
      path: resourcePath(resource, { namespace, name }),
      query: { fieldManager: this.fieldManager },
      body,
      contentType: MERGE_PATCH,
    });
    return this.observed(resource, answer);
  }

  /** Adds the finalizer unless present; a conflict (someone wrote first) surfaces as a 409 to retry. */
  async addFinalizer(resource: Resource, obj: Named, finalizer: string): Promise<boolean> {
    const current = obj.metadata.finalizers ?? [];
    if (current.includes(finalizer)) return false;
    await this.patch(resource, obj.metadata.namespace!, obj.metadata.name!, {
      metadata: { finalizers: [...current, finalizer], resourceVersion: obj.metadata.resourceVersion },
    });
    return true;
  }

  async removeFinalizer(resource: Resource, obj: Named, finalizer: string): Promise<void> {
    const current = obj.metadata.finalizers ?? [];
    if (!current.includes(finalizer)) return;
    try {
      await this.patch(resource, obj.metadata.namespace!, obj.metadata.name!, {
        metadata: {
          finalizers: current.filter((f) => f !== finalizer),
          resourceVersion: obj.metadata.resourceVersion,
        },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The Secret (frozen when it comes from the cache: copy it before changing it), or undefined. */
  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    const cached = this.secretCache?.(namespace, name);
    if (cached) return cached;
    try {
      return await this.client.request<V1Secret>({
        method: 'GET',
        path: resourcePath(resources.Secret, { namespace, name }),
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates the Secret; returns false when one of that name exists already (it is left as it is). */
  async createSecret(secret: V1Secret): Promise<boolean> {
    try {
      await this.create(resources.Secret, secret as Named);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Replaces the Secret; its metadata.resourceVersion makes this fail on a concurrent change. */
  async replaceSecret(secret: V1Secret): Promise<void> {
    const answer = await this.client.request({
      method: 'PUT',
      path: resourcePath(resources.Secret, {
        namespace: secret.metadata!.namespace,
        name: secret.metadata!.name!,
      }),
      query: { fieldManager: this.fieldManager },
      body: secret,
    });
    this.observed(resources.Secret, answer);
  }

  // Objects of any kind, by resource (ours, core, or another project's CRD): for the publishers,
  // whose objects live in other namespaces and other API groups.

  /** Reads one object; undefined when it does not exist. A namespace of '' or undefined: cluster-scoped. */
  async get<T>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.client.request<T>({
        method: 'GET',
        path: resourcePath(resource, { namespace, name }),
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists by label selector, in one namespace or (namespace undefined) in all of them. */
  async list<T>(resource: ResourceRef, opts: { namespace?: string; labelSelector: string }): Promise<T[]> {
    const list = await this.client.request<{ items?: T[] }>({
      method: 'GET',
      path: resourcePath(resource, { namespace: opts.namespace }),
      query: { labelSelector: opts.labelSelector },
    });
    return list.items ?? [];
  }

  /**
   * Server-side apply of `obj` (apiVersion and kind included) with our field manager, taking over
   * conflicting fields: what we applied before and leave out now is removed, what others own stays.
   */
  async apply<T>(resource: ResourceRef, obj: AppliedObject): Promise<T> {
    const answer = await this.client.request<T>({
      method: 'PATCH',
      path: resourcePath(resource, { namespace: obj.metadata.namespace, name: obj.metadata.name! }),
      query: { fieldManager: this.fieldManager, force: true },
      body: obj,
      contentType: APPLY_PATCH,
    });
    return this.observed(resource, answer);
  }

  /** Deletes any object, treating "already gone" as success. Returns whether it existed. */
  async deleteObject(resource: ResourceRef, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      // The answer is the object (now with its deletionTimestamp) while finalizers hold it, else a Status.
      const answer = await this.client.request({
        method: 'DELETE',
        path: resourcePath(resource, { namespace, name }),
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
      // Only an object that is still there: a deleted one's answer must not go back into a cache.
      if ((answer as Named & { metadata?: { deletionTimestamp?: string } })?.metadata?.deletionTimestamp)
        this.observed(resource, answer);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Whether the API server serves the resource (its CRD is installed), from discovery. */
  async serves(resource: ResourceRef): Promise<boolean> {
    const path =
      resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
    try {
      const list = await this.client.request<{ resources?: { name: string }[] }>({ method: 'GET', path });
      return (list.resources ?? []).some((r) => r.name === resource.plural);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
