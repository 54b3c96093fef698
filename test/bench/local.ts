// The local provider: apply -> Ready, Kubernetes API requests to Ready and idle, delete -> gone, for
// 1 and 3 control-plane machines with 2 workers each (kubelet workers, the template's default), and
// 1 control-plane machine with 2 Simulated workers; for kubelet workers also one more worker's
// scale -> Ready and each node's resident memory at idle.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { renderTemplate } from '../../src/templates/render.js';
import { nodeRssMiB } from './node-rss.js';
import {
  clusterReader,
  isReady,
  type OperatorProcess,
  progress,
  repo,
  sleep,
  total,
  waitUntil,
} from './support.js';

const DEADLINE_MS = 180_000;
/** The local idle figure is sampled over 30 s (Kubernetes requests: heart-beats dominate). */
const IDLE_SAMPLE_MS = 30_000;

export async function benchLocal(
  kc: KubeConfig,
  operator: OperatorProcess,
  kubectl: (args: string[], input?: string) => Promise<string>,
): Promise<string[]> {
  const rows: string[] = [];
  const get = clusterReader(kc);
  const requests = async () => total(await operator.read('clusterforge_api_requests_total'));
  const template = await readFile(join(repo, 'templates/local/cluster-template.yaml'), 'utf8');
  const objects = kc.makeApiClient(CustomObjectsApi);
  const readyWorkers = async (name: string): Promise<number> => {
    const md = (await objects
      .getNamespacedCustomObject({
        group: 'clusterforge.dev',
        version: 'v1alpha1',
        namespace: 'default',
        plural: 'machinedeployments',
        name: `${name}-workers`,
      })
      .catch(() => undefined)) as { status?: { readyReplicas?: number } } | undefined;
    return md?.status?.readyReplicas ?? 0;
  };
  const shapes = [
    { controlPlanes: 1, worker: 'Kubelet' },
    { controlPlanes: 3, worker: 'Kubelet' },
    { controlPlanes: 1, worker: 'Simulated' },
  ] as const;
  for (const { controlPlanes, worker } of shapes) {
    const name = `bench-cp${controlPlanes}-${worker.toLowerCase()}`;
    const requestsBefore = await requests();
    progress(`local: applying ${name}`);
    await kubectl(
      ['apply', '-f', '-'],
      renderTemplate(template, {
        CLUSTER_NAME: name,
        CONTROL_PLANE_MACHINE_COUNT: String(controlPlanes),
        LOCAL_WORKER: worker,
      }),
    );
    const seconds = await waitUntil(`${name} Ready`, async () => isReady(await get(name)), DEADLINE_MS, 100);
    const toReady = (await requests()) - requestsBefore;
    const idleBefore = await requests();
    await sleep(IDLE_SAMPLE_MS);
    const idlePerMinute = (((await requests()) - idleBefore) * 60_000) / IDLE_SAMPLE_MS;
    rows.push(
      `local cluster, ${controlPlanes} control-plane machine(s) + 2 ${worker} workers: apply -> Ready ${seconds.toFixed(1)} s; ` +
        `${toReady} API requests to Ready; ${idlePerMinute} API requests/min idle`,
    );
    if (worker === 'Kubelet' && controlPlanes === 1) {
      const rss = await nodeRssMiB();
      rows.push(
        `  kubelet node RSS at idle (containerd, kubelet; no pods): ${rss.map((m) => `${m.toFixed(0)} MiB`).join(', ')}`,
      );
      await kubectl(['scale', `machinedeployment/${name}-workers`, '--replicas=3']);
      const joined = await waitUntil(
        `${name} with 3 workers`,
        async () => (await readyWorkers(name)) === 3,
        DEADLINE_MS,
        100,
      );
      rows.push(`  one more kubelet worker: scale -> Ready ${joined.toFixed(1)} s`);
    }
    await kubectl(['delete', 'cluster.clusterforge.dev', name, '--wait=false']);
    const gone = await waitUntil(`${name} deleted`, async () => !(await get(name)), DEADLINE_MS);
    rows.push(`  delete -> gone ${gone.toFixed(1)} s`);
  }
  return rows;
}
