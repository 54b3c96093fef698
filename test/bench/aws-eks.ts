// The aws-eks provider through the controllers, against the AWS API emulator: AWS API calls from
// apply to Ready, per minute while Ready and idle, and from delete to gone, for an EKS control plane
// with one node group of 2 in 2 zones.
//
// Unlike the other sections this one runs the operator in this process (with only the aws-eks
// provider, watching its own namespace), because moto's EKS answers need one field mended at the
// SDK's edge before a kubeconfig can be written (test/support/moto-eks.ts). Calls are counted by
// the same observer that feeds clusterforge_aws_api_calls_total.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { AwsClientFactory } from '../../providers/aws-common/clients.js';
import { AWS_EKS_PERIODIC_LOOKS_MS, AwsEksProvider } from '../../providers/aws-eks/provider.js';
import { TOKEN_LIFETIME_MS } from '../../providers/aws-eks/services/token.js';
import { MANAGED_RESYNC_MS } from '../../src/controllers/controlplane/managed.js';
import { startOperator } from '../../src/operator/run.js';
import { createLogger } from '../../src/runtime/log.js';
import { renderTemplate } from '../../src/templates/render.js';
import { realClusterCA } from '../support/moto-eks.js';
import { AWS_DEADLINE_MS, AWS_SETTLE_MS, awsIdleWindowMs } from './aws-timing.js';
import {
  byOperation,
  clusterReader,
  diff,
  isReady,
  progress,
  type Reading,
  repo,
  sleep,
  total,
  waitUntil,
} from './support.js';

const NAMESPACE = 'bench-eks';

/** The idle window, over the managed control plane's resync, the token rewrite and the provider's looks. */
const idleWindowMs = (): number =>
  awsIdleWindowMs([
    MANAGED_RESYNC_MS,
    (TOKEN_LIFETIME_MS * 2) / 3,
    ...Object.values(AWS_EKS_PERIODIC_LOOKS_MS),
  ]);

/** Calls as the operator's metric labels them, counted in this process. */
class Counter {
  private readonly counts: Reading = new Map();
  readonly record = (call: { service: string; operation: string }): void => {
    const key = `service="${call.service}",operation="${call.operation}"`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  };
  read(): Reading {
    return new Map(this.counts);
  }
}

export async function benchAwsEks(
  kc: KubeConfig,
  kubectl: (args: string[], input?: string) => Promise<string>,
): Promise<string[]> {
  const rows: string[] = [];
  const name = 'bench-eks';
  const get = clusterReader(kc, NAMESPACE);
  const counter = new Counter();
  const ca = await realClusterCA();
  const provider = new AwsEksProvider({
    clients: new AwsClientFactory({ onCall: counter.record, onClient: ca.onClient }),
  });
  await kubectl(['create', 'namespace', NAMESPACE]);
  const operator = await startOperator({
    kubeConfig: kc,
    log: createLogger({ level: process.env.LOG_LEVEL ?? 'warn' }),
    metricsBindAddress: '127.0.0.1:0',
    namespace: NAMESPACE,
    providers: [provider],
  });
  try {
    const template = await readFile(join(repo, 'templates/aws-eks/cluster-template.yaml'), 'utf8');
    const manifest = renderTemplate(template, {
      CLUSTER_NAME: name,
      NAMESPACE,
      EKS_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-control-plane',
      EKS_NODE_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-nodes',
      AWS_AZ_COUNT: '2',
      WORKER_MACHINE_COUNT: '2',
      KUBERNETES_VERSION: 'v1.32.1',
    });
    const shape = 'EKS control plane + 1 node group of 2, 2 zones';

    let before = counter.read();
    progress(`aws-eks: applying ${name} (${shape})`);
    await kubectl(['apply', '-f', '-'], manifest);
    const toReady = await waitUntil(`${name} Ready`, async () => isReady(await get(name)), AWS_DEADLINE_MS);
    const ready = diff(counter.read(), before);
    rows.push(
      `aws-eks cluster (${shape}): apply -> Ready ${toReady.toFixed(1)} s (the emulator makes EKS ACTIVE at once); ${total(ready)} AWS API calls`,
      byOperation(ready),
    );

    await sleep(AWS_SETTLE_MS);
    const windowMs = idleWindowMs();
    progress(`aws-eks: Ready; counting AWS calls while idle for ${(windowMs / 60_000).toFixed(1)} min`);
    const issuedAt = () =>
      kubectl([
        'get',
        'secret',
        '-n',
        NAMESPACE,
        `${name}-kubeconfig`,
        '-o',
        'jsonpath={.metadata.annotations.clusterforge\\.dev/credential-issued-at}',
      ]);
    const tokenBefore = await issuedAt();
    before = counter.read();
    const started = performance.now();
    await sleep(windowMs);
    const idle = diff(counter.read(), before);
    const measuredMs = performance.now() - started;
    if (!isReady(await get(name))) throw new Error(`${name} left Ready during the idle window`);
    const tokenAfter = await issuedAt();
    rows.push(
      `  idle, Ready: ${((total(idle) * 60_000) / measuredMs).toFixed(2)} AWS API calls/min ` +
        `(${total(idle)} calls over ${(measuredMs / 60_000).toFixed(1)} min; kubeconfig token issued at ` +
        `${tokenBefore} before it, ${tokenAfter} after)`,
      byOperation(idle, measuredMs),
    );

    before = counter.read();
    progress(`aws-eks: deleting ${name}`);
    await kubectl(['delete', '-n', NAMESPACE, 'cluster.clusterforge.dev', name, '--wait=false']);
    const gone = await waitUntil(`${name} deleted`, async () => !(await get(name)), AWS_DEADLINE_MS);
    const deleted = diff(counter.read(), before);
    rows.push(`  delete -> gone ${gone.toFixed(1)} s; ${total(deleted)} AWS API calls`, byOperation(deleted));
  } finally {
    await operator.stop();
    provider.destroy();
  }
  return rows;
}
