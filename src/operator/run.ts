// Starts the operator: the manager (leader election, health, metrics), the providers, the controllers.

import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { AwsClientFactory } from '../../providers/aws-common/clients.js';
import { AwsEc2Provider } from '../../providers/aws-ec2/provider.js';
import { imageLookupFromEnv } from '../../providers/aws-ec2/services/images.js';
import { workloadClientFromEnv } from '../../providers/aws-ec2/workload-from-env.js';
import { AwsEksProvider } from '../../providers/aws-eks/provider.js';
import { InMemoryProvider } from '../../providers/inmemory/provider.js';
import { LocalProvider } from '../../providers/local/provider.js';
import type { ControllerDeps } from '../controllers/deps.js';
import { awsCrashPoints } from '../crash/aws.js';
import { type SecretDataReader, secretDataReader } from '../kube/secret-data.js';
import { ObjectWriter } from '../kube/writer.js';
import type { InfrastructureProvider } from '../provider/contract.js';
import { Manager } from '../runtime/manager.js';
import { defaultMetrics, type RuntimeMetrics } from '../runtime/metrics.js';
import type { KubeObject } from '../runtime/object-key.js';
import { exportBuildInfo } from './build-info.js';
import type { ControllerName } from './concurrency.js';
import { ownSecrets, registerControllers } from './controllers.js';
import { exportFleetMetrics } from './fleet-metrics.js';

export interface OperatorRunOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** host:port of /healthz, /readyz, /metrics; port 0 picks one. */
  metricsBindAddress?: string;
  leaderElect?: boolean;
  leaderElectionNamespace?: string;
  /** Lease timings of leader election and of the shard Leases (defaults: leader-election.ts). */
  leaseTimings?: { leaseDurationSeconds?: number; renewDeadlineMs?: number; retryIntervalMs?: number };
  /** More than 1: split the clusters over this many shards, one Lease each (docs/sharding.md). */
  shards?: number;
  /** Concurrent reconciles per controller (DEFAULT_CONCURRENCY for those not named). */
  concurrency?: number | Partial<Record<ControllerName, number>>;
  /** Client-side limit of the controllers' API requests; omitted: none. */
  kubeApiRateLimit?: { qps: number; burst: number };
  /** Watch one namespace only; default all. */
  namespace?: string;
  /** Defaults to every provider this build has. */
  providers?: InfrastructureProvider[];
  handleSignals?: boolean;
}

export interface RunningOperator {
  manager: Manager;
  deps: ControllerDeps;
  stop(opts?: { releaseLease?: boolean }): Promise<void>;
}

/**
 * `secrets` reads the Secrets that AWS clusters name in their credentialsRef. The AWS providers share
 * one client factory, whose every call is counted in `metrics` (clusterforge_aws_api_calls_total).
 * Machine image lookup reads CLUSTERFORGE_AWS_IMAGE_OWNERS / _NAME_FORMAT (docs/providers/aws.md);
 * CLUSTERFORGE_AWS_EC2_WORKLOAD_KUBECONFIG (tests only) stands in for the workload clusters' API.
 */
export function defaultProviders(
  secrets?: SecretDataReader,
  metrics: RuntimeMetrics = defaultMetrics(),
): InfrastructureProvider[] {
  const onClient = awsCrashPoints();
  const awsClients = new AwsClientFactory({
    onCall: metrics.observeAwsCall,
    ...(onClient ? { onClient } : {}),
  });
  return [
    new LocalProvider(),
    new AwsEc2Provider({
      secrets,
      clients: awsClients,
      images: imageLookupFromEnv(),
      ...workloadClientFromEnv(),
    }),
    new AwsEksProvider({ secrets, clients: awsClients }),
    new InMemoryProvider(),
  ];
}

export async function startOperator(opts: OperatorRunOptions): Promise<RunningOperator> {
  const leaseNamespace = opts.leaderElectionNamespace ?? 'clusterforge-system';
  const sharded = (opts.shards ?? 1) > 1;
  const manager = new Manager({
    kubeConfig: opts.kubeConfig,
    log: opts.log,
    address: opts.metricsBindAddress ?? '127.0.0.1:8080',
    // Shards replace the one leader: every replica runs the controllers for the shards it holds.
    leaderElection:
      opts.leaderElect && !sharded
        ? { namespace: leaseNamespace, name: 'clusterforge-operator', ...opts.leaseTimings }
        : false,
    ...(sharded ? { shards: { shards: opts.shards!, namespace: leaseNamespace, ...opts.leaseTimings } } : {}),
    handleSignals: opts.handleSignals ?? false,
    ...(opts.kubeApiRateLimit ? { rateLimit: opts.kubeApiRateLimit } : {}),
  });
  const deps = registerControllers(manager, {
    providers:
      opts.providers ?? defaultProviders(secretDataReader(new ObjectWriter(manager.client)), manager.metrics),
    ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
  });
  exportBuildInfo(manager.metrics.registry);
  const secrets = manager.informer<V1Secret & KubeObject>(ownSecrets(opts.namespace));
  const unexport = exportFleetMetrics(manager.metrics.registry, {
    clusters: deps.clusters,
    controlPlanes: deps.controlPlanes,
    deployments: deps.deployments,
    secrets: { get: (namespace, name) => secrets.get(namespace, name) },
  });
  await manager.start();
  return {
    manager,
    deps,
    stop: async (o) => {
      await manager.stop(o);
      unexport();
    },
  };
}
