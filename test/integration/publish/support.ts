// What the publish tests share: a local cluster's manifest with spec.publish, the fixture CRDs of
// Fleet and Karmada, and a small bearer-token client, as a downstream tool would use the
// credentials it was given.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { renderTemplate } from '../../../src/templates/render.js';
import { kubectl } from '../../support/kube.js';
import { getObject, waitFor } from '../../support/operator.js';

export const FIXTURE_CRDS = ['fleet-cluster-crd.yaml', 'karmada-cluster-crd.yaml'].map((f) =>
  fileURLToPath(new URL(`../../fixtures/${f}`, import.meta.url)),
);

/** The local template's objects for one cluster (one control-plane machine), with `cluster` merged into the Cluster. */
export async function clusterManifest(
  name: string,
  namespace: string,
  cluster: { labels?: Record<string, string>; publish?: object } = {},
  workers = 1,
): Promise<string> {
  const text = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
    CLUSTER_NAME: name,
    NAMESPACE: namespace,
    WORKER_MACHINE_COUNT: String(workers),
  });
  return parseAllDocuments(text)
    .map((doc) => {
      const o = doc.toJS();
      if (o.kind === 'Cluster') {
        if (cluster.labels) o.metadata.labels = cluster.labels;
        if (cluster.publish) o.spec.publish = cluster.publish;
      }
      return stringify(o);
    })
    .join('---\n');
}

export async function applyFixtureCRDs(): Promise<void> {
  const args = FIXTURE_CRDS.flatMap((f) => ['-f', f]);
  const applied = await kubectl(['apply', '--server-side', ...args]);
  if (applied.code !== 0) throw new Error(applied.stderr);
  const ready = await kubectl(['wait', '--for=condition=Established', '--timeout=30s', ...args]);
  if (ready.code !== 0) throw new Error(ready.stderr);
}

export async function deleteFixtureCRDs(): Promise<void> {
  const args = FIXTURE_CRDS.flatMap((f) => ['-f', f]);
  await kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=60s', ...args]);
}

export async function readSecret(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1Secret | undefined> {
  try {
    return await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name, namespace });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export const decoded = (secret: V1Secret | undefined, key: string): string =>
  Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');

export const condition = (cluster: any, type: string) =>
  cluster?.status?.conditions?.find((c: any) => c.type === type);

/** Until the Cluster's condition `type` satisfies `check`. */
export function waitForCondition(
  kc: KubeConfig,
  namespace: string,
  name: string,
  type: string,
  check: (c: any) => boolean,
  timeoutMs = 60_000,
): Promise<any> {
  return waitFor(
    `condition ${type} of Cluster ${name}`,
    async () => {
      const cluster = await getObject(kc, 'clusters', namespace, name);
      return check(condition(cluster, type)) ? cluster : undefined;
    },
    {
      timeoutMs,
      describe: async () =>
        JSON.stringify((await getObject(kc, 'clusters', namespace, name))?.status?.conditions, null, 1),
    },
  );
}

/** Makes the operator look at the Cluster now (a change of metadata enqueues it). */
export async function nudge(namespace: string, name: string): Promise<void> {
  const out = await kubectl([
    'annotate',
    '-n',
    namespace,
    `cluster/${name}`,
    `test.clusterforge.dev/nudge=${Date.now()}`,
    '--overwrite',
  ]);
  if (out.code !== 0) throw new Error(out.stderr);
}

export interface BearerAnswer {
  status: number;
  body: any;
}

/** One request to `server` with a bearer token, trusting only `caPEM`: what a downstream tool does. */
export function bearerRequest(
  server: string,
  caPEM: string,
  token: string,
  method: string,
  path: string,
  body?: object,
): Promise<BearerAnswer> {
  const url = new URL(path, server);
  const payload = body ? Buffer.from(JSON.stringify(body)) : undefined;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: caPEM,
        agent: false,
        timeout: 5_000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
