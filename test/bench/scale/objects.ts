// The objects of the scale bench: N clusters from the in-memory template (what a user applies), and the
// floor's copies of one Ready cluster's objects with their statuses.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CLUSTER_NAME_LABEL } from '../../../src/api/v1alpha1/labels.js';
import { apiVersionOf, type Resource, resources } from '../../../src/kube/resources.js';
import type { KubeClient } from '../../../src/runtime/transport.js';
import { resourcePath } from '../../../src/runtime/transport.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { repo } from '../support.js';

export type Manifest = any;

const byKind = new Map<string, Resource>(Object.values(resources).map((r) => [r.kind, r]));

function resourceOf(obj: Manifest): Resource {
  const r = byKind.get(obj.kind);
  if (!r) throw new Error(`the scale bench does not write ${obj.kind}`);
  return r;
}

/** One cluster of 1 control-plane machine and 1 worker, as `generate cluster --infrastructure inmemory` makes it. */
export async function clusterManifests(namespace: string, name: string): Promise<Manifest[]> {
  const template = await readFile(join(repo, 'templates/inmemory/cluster-template.yaml'), 'utf8');
  const text = renderTemplate(template, {
    CLUSTER_NAME: name,
    NAMESPACE: namespace,
    CONTROL_PLANE_MACHINE_COUNT: '1',
    WORKER_MACHINE_COUNT: '1',
  });
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean);
}

/** Creates `obj`; returns the number of requests it took. */
export async function create(client: KubeClient, obj: Manifest): Promise<number> {
  const r = resourceOf(obj);
  await client.request({
    method: 'POST',
    path: resourcePath(r, { namespace: obj.metadata.namespace }),
    body: obj,
  });
  return 1;
}

/** Runs `fn` over `items`, at most `limit` at once. */
export async function inParallel<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * Everything of one cluster as the API holds it once Ready: our kinds and the Secrets made for it, with
 * their statuses, stripped of what the server assigns (uid, resourceVersion, timestamps, owners).
 */
export async function snapshotCluster(
  client: KubeClient,
  namespace: string,
  cluster: string,
): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const r of Object.values(resources)) {
    const list = await client.request<{ items: Manifest[] }>({
      method: 'GET',
      path: resourcePath(r, { namespace }),
    });
    for (const item of list.items) {
      const mine =
        item.metadata.name === cluster ||
        item.metadata.labels?.[CLUSTER_NAME_LABEL] === cluster ||
        item.spec?.clusterName === cluster ||
        item.metadata.name.startsWith(`${cluster}-`);
      if (!mine) continue;
      out.push({
        apiVersion: apiVersionOf(r),
        kind: r.kind,
        metadata: {
          name: item.metadata.name,
          labels: item.metadata.labels,
          annotations: item.metadata.annotations,
        },
        ...(item.spec ? { spec: item.spec } : {}),
        ...(item.data ? { data: item.data, type: item.type } : {}),
        ...(item.status ? { status: item.status } : {}),
      });
    }
  }
  return out;
}

/** The snapshot renamed for cluster `to` in `namespace` (names, labels and references that say the cluster). */
export function renamed(snapshot: Manifest[], from: string, to: string, namespace: string): Manifest[] {
  const text = JSON.stringify(snapshot).replaceAll(`"${from}"`, `"${to}"`).replaceAll(`"${from}-`, `"${to}-`);
  const copies = JSON.parse(text) as Manifest[];
  for (const c of copies) c.metadata.namespace = namespace;
  return copies;
}

/** Writes one object as the operator ends up with it: create, then its status. Returns the requests sent. */
export async function writeWithStatus(client: KubeClient, obj: Manifest): Promise<number> {
  const r = resourceOf(obj);
  const { status, ...rest } = obj;
  const created = await client.request<Manifest>({
    method: 'POST',
    path: resourcePath(r, { namespace: obj.metadata.namespace }),
    body: rest,
  });
  if (!status || r.group === '') return 1;
  await client.request({
    method: 'PUT',
    path: resourcePath(r, {
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      subresource: 'status',
    }),
    body: { ...created, status },
  });
  return 2;
}
