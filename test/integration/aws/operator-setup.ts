// The set-up shared by the AWS tests that run the real controllers (ec2-operator, ec2-drift,
// ec2-upgrade, eks-operator): a provider that reads Secrets from the test API server and counts its
// AWS calls, the operator in this process with that provider, and the aws-ec2 cluster template applied
// with kubectl as a user would (test/support/templates.ts). AWS is the emulator of the test
// environment; nothing is faked here.
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { AwsClientFactory, type AwsClientFactoryOptions } from '../../../providers/aws-common/clients.js';
import { secretDataReader } from '../../../src/kube/secret-data.js';
import { ObjectWriter } from '../../../src/kube/writer.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import type { InfrastructureProvider } from '../../../src/provider/contract.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { installCRDs } from '../../support/crds.js';
import { startTestOperator } from '../../support/operator.js';
import { applyClusterTemplate } from '../../support/templates.js';
import { CallCounter } from './fixtures.js';

/**
 * What an AWS provider needs under the test operator: Secrets read from the test API server, and
 * clients that count every AWS call in `calls` (and hand every SDK client made to `onClient`).
 */
export function operatorProviderDeps(
  kc: KubeConfig,
  calls: CallCounter,
  onClient?: AwsClientFactoryOptions['onClient'],
): { secrets: ReturnType<typeof secretDataReader>; clients: AwsClientFactory } {
  return {
    secrets: secretDataReader(new ObjectWriter(new KubeClient(kc))),
    clients: new AwsClientFactory({ onCall: calls.record, ...(onClient ? { onClient } : {}) }),
  };
}

/**
 * Before the file's tests: the CRDs, the provider `makeProvider` returns (given the counter of its
 * AWS calls), and the operator watching `namespace` with it. After them: the operator stopped, the
 * provider's clients closed and the `figures` the tests gathered printed. A file's own afterAll,
 * registered after this call, runs before this one (vitest runs after-hooks as a stack).
 */
export function useAwsOperator(
  kc: KubeConfig,
  namespace: () => string,
  makeProvider: (calls: CallCounter) => Promise<InfrastructureProvider & { destroy(): void }>,
): { calls: CallCounter; figures: string[] } {
  const calls = new CallCounter();
  const figures: string[] = [];
  let provider: (InfrastructureProvider & { destroy(): void }) | undefined;
  let operator: RunningOperator | undefined;
  beforeAll(async () => {
    await installCRDs(kc);
    provider = await makeProvider(calls);
    operator = await startTestOperator(kc, namespace(), [provider]);
  });
  afterAll(async () => {
    await operator?.stop();
    provider?.destroy();
    if (figures.length > 0) console.log(figures.join('\n\n'));
  });
  return { calls, figures };
}

/** The aws-ec2 template for a cluster in two zones, applied with kubectl. */
export function applyEc2Cluster(
  namespace: string,
  name: string,
  shape: { version: string; controlPlanes: number; workers: number },
): Promise<void> {
  return applyClusterTemplate('aws-ec2', {
    CLUSTER_NAME: name,
    NAMESPACE: namespace,
    AWS_AZ_COUNT: '2',
    CONTROL_PLANE_MACHINE_COUNT: String(shape.controlPlanes),
    WORKER_MACHINE_COUNT: String(shape.workers),
    KUBERNETES_VERSION: shape.version,
  });
}

/** The aws-eks template (two zones, the node group's role as eks-operator.test.ts checks it), applied with kubectl. */
export function applyEksCluster(
  namespace: string,
  name: string,
  shape: { version: string; workers: number },
): Promise<void> {
  return applyClusterTemplate('aws-eks', {
    CLUSTER_NAME: name,
    NAMESPACE: namespace,
    EKS_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-control-plane',
    EKS_NODE_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-nodes',
    AWS_AZ_COUNT: '2',
    WORKER_MACHINE_COUNT: String(shape.workers),
    KUBERNETES_VERSION: shape.version,
  });
}
