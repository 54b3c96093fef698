// The aws-ec2 provider through the operator process, against the AWS API emulator: AWS API calls
// (clusterforge_aws_api_calls_total) from apply to Ready, per minute while Ready and idle, and from
// delete to gone, for 1 control-plane machine and 2 workers in 2 zones.
//
// The idle window covers every periodic look: the Machine resync, the Cluster's resync of a Ready
// cluster, and the provider's own intervals (the instance view, the full infrastructure check), plus
// a minute, so that each of them falls into it at least once whatever its phase.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { AWS_EC2_PERIODIC_LOOKS_MS } from '../../providers/aws-ec2/provider.js';
import { RESYNC_MS } from '../../src/controllers/deps.js';
import { renderTemplate } from '../../src/templates/render.js';
import { capaImage } from '../integration/aws/fixtures.js';
import { AWS_DEADLINE_MS, AWS_SETTLE_MS, awsIdleWindowMs } from './aws-timing.js';
import {
  byOperation,
  clusterReader,
  diff,
  isReady,
  type OperatorProcess,
  progress,
  repo,
  sleep,
  total,
  waitUntil,
} from './support.js';

const VERSION = 'v1.37.2';
const AWS_CALLS = 'clusterforge_aws_api_calls_total';

/** The idle window, over the Machine resync and the provider's own looks (and the Cluster's resync). */
export const idleWindowMs = (env: NodeJS.ProcessEnv = process.env): number =>
  awsIdleWindowMs([RESYNC_MS, ...Object.values(AWS_EC2_PERIODIC_LOOKS_MS)], env);

/**
 * An image named as Cluster API Provider AWS names its images, in the emulator's account (the
 * integration tests' capaImage). Returns the account, for CLUSTERFORGE_AWS_IMAGE_OWNERS.
 */
export const prepareImage = (): Promise<string> => capaImage(VERSION);

export async function benchAwsEc2(
  kc: KubeConfig,
  operator: OperatorProcess,
  kubectl: (args: string[], input?: string) => Promise<string>,
): Promise<string[]> {
  const rows: string[] = [];
  const name = 'bench-ec2';
  const get = clusterReader(kc);
  const calls = () => operator.read(AWS_CALLS);
  const template = await readFile(join(repo, 'templates/aws-ec2/cluster-template.yaml'), 'utf8');
  const manifest = renderTemplate(template, {
    CLUSTER_NAME: name,
    AWS_AZ_COUNT: '2',
    CONTROL_PLANE_MACHINE_COUNT: '1',
    WORKER_MACHINE_COUNT: '2',
    KUBERNETES_VERSION: VERSION,
  });
  const shape = '1 control-plane machine + 2 workers, 2 zones';

  let before = await calls();
  progress(`aws-ec2: applying ${name} (${shape})`);
  await kubectl(['apply', '-f', '-'], manifest);
  const toReady = await waitUntil(`${name} Ready`, async () => isReady(await get(name)), AWS_DEADLINE_MS);
  const ready = diff(await calls(), before);
  rows.push(
    `aws-ec2 cluster (${shape}): apply -> Ready ${toReady.toFixed(1)} s; ${total(ready)} AWS API calls`,
    byOperation(ready),
  );

  await sleep(AWS_SETTLE_MS);
  const windowMs = idleWindowMs();
  progress(`aws-ec2: Ready; counting AWS calls while idle for ${(windowMs / 60_000).toFixed(1)} min`);
  before = await calls();
  const started = performance.now();
  await sleep(windowMs);
  const idle = diff(await calls(), before);
  const measuredMs = performance.now() - started;
  if (!isReady(await get(name))) throw new Error(`${name} left Ready during the idle window`);
  rows.push(
    `  idle, Ready: ${((total(idle) * 60_000) / measuredMs).toFixed(2)} AWS API calls/min ` +
      `(${total(idle)} calls over ${(measuredMs / 60_000).toFixed(1)} min)`,
    byOperation(idle, measuredMs),
  );

  before = await calls();
  progress(`aws-ec2: deleting ${name}`);
  await kubectl(['delete', 'cluster.clusterforge.dev', name, '--wait=false']);
  const gone = await waitUntil(`${name} deleted`, async () => !(await get(name)), AWS_DEADLINE_MS);
  const deleted = diff(await calls(), before);
  rows.push(`  delete -> gone ${gone.toFixed(1)} s; ${total(deleted)} AWS API calls`, byOperation(deleted));
  return rows;
}
