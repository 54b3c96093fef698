// Reaching a workload cluster as a user would: through its published <cluster>-kubeconfig Secret.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll } from 'vitest';
import { parse } from 'yaml';

export async function publishedKubeconfig(
  kc: KubeConfig,
  namespace: string,
  cluster: string,
): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: `${cluster}-kubeconfig`, namespace });
  return Buffer.from(secret.data!.value!, 'base64').toString('utf8');
}

// The folders writeKubeconfig made; the test file that made them removes them when it ends.
const written = new Set<string>();
afterAll(async () => {
  for (const dir of written) await rm(dir, { recursive: true, force: true });
  written.clear();
});

/** A kubeconfig in a file of its own, for kubectl; removed when the test file ends. */
export async function writeKubeconfig(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'clusterforge-kubeconfig-'));
  written.add(dir);
  const path = join(dir, 'kubeconfig');
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

interface TlsClient {
  server: URL;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function tlsClient(kubeconfig: string): TlsClient {
  const doc = parse(kubeconfig);
  const cluster = doc.clusters[0].cluster;
  const user = doc.users[0].user;
  const b = (s: string) => Buffer.from(s, 'base64');
  return {
    server: new URL(cluster.server),
    ca: b(cluster['certificate-authority-data']),
    cert: b(user['client-certificate-data']),
    key: b(user['client-key-data']),
  };
}

/** GETs `path` on the workload cluster with the kubeconfig's client certificate. */
export function getJSON(kubeconfig: string, path: string, timeoutMs = 3_000): Promise<any> {
  const c = tlsClient(kubeconfig);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: c.server.hostname,
        port: c.server.port,
        path,
        ca: c.ca,
        cert: c.cert,
        key: c.key,
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300)
            reject(new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`));
          else resolve(JSON.parse(body));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls the API every intervalMs until stopped; counts what succeeded and what failed, and why. */
export function startProbe(kubeconfig: string, path = '/version', intervalMs = 100) {
  const counts = { ok: 0, failed: 0, errors: [] as string[], versions: new Set<string>() };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const body = await getJSON(kubeconfig, path);
        counts.ok++;
        if (body?.gitVersion) counts.versions.add(body.gitVersion);
      } catch (err) {
        counts.failed++;
        if (counts.errors.length < 10) counts.errors.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    counts,
    async stop() {
      running = false;
      await loop;
      return counts;
    },
  };
}
