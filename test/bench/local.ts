// The local provider: apply -> Ready, Kubernetes API requests to Ready and idle, delete -> gone, for
// 1 and 3 control-plane machines with 2 workers each.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { renderTemplate } from '../../src/templates/render.js';
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
  for (const controlPlanes of [1, 3]) {
    const name = `bench-cp${controlPlanes}`;
    const requestsBefore = await requests();
    progress(`local: applying ${name}`);
    await kubectl(
      ['apply', '-f', '-'],
      renderTemplate(template, { CLUSTER_NAME: name, CONTROL_PLANE_MACHINE_COUNT: String(controlPlanes) }),
    );
    const seconds = await waitUntil(`${name} Ready`, async () => isReady(await get(name)), DEADLINE_MS, 100);
    const toReady = (await requests()) - requestsBefore;
    const idleBefore = await requests();
    await sleep(IDLE_SAMPLE_MS);
    const idlePerMinute = (((await requests()) - idleBefore) * 60_000) / IDLE_SAMPLE_MS;
    rows.push(
      `local cluster, ${controlPlanes} control-plane machine(s) + 2 workers: apply -> Ready ${seconds.toFixed(1)} s; ` +
        `${toReady} API requests to Ready; ${idlePerMinute} API requests/min idle`,
    );
    await kubectl(['delete', 'cluster.clusterforge.dev', name, '--wait=false']);
    const gone = await waitUntil(`${name} deleted`, async () => !(await get(name)), DEADLINE_MS);
    rows.push(`  delete -> gone ${gone.toFixed(1)} s`);
  }
  return rows;
}
