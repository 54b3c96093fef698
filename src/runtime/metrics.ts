// Prometheus metrics of the runtime (prom-client), served by the manager on /metrics.
//
// One RuntimeMetrics owns one Registry, so two managers in one process (tests) do not collide. Code that
// has no manager at hand (providers) uses defaultMetrics(), which is also what a manager uses unless it is
// given another one.
import {
  type Configuration,
  createConfiguration,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  type ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
} from '@kubernetes/client-node';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { kubeResource, kubeVerb, type RequestObserver } from './transport.js';

const PREFIX = 'clusterforge_';

/** What the queue gauges read of a work queue. */
interface QueueView {
  len(): number;
  inFlight(): number;
}
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Every metric this runtime exports (prefixed with clusterforge_), with the help /metrics shows. */
const HELP = {
  reconcile_total: 'Reconciles by controller and result (success, requeue, error, terminal).',
  reconcile_errors_total: 'Reconciles that failed (transient or terminal), by controller.',
  reconcile_duration_seconds: 'Time taken by one reconcile, by controller.',
  workqueue_depth: 'Keys ready to be reconciled, by controller.',
  workqueue_in_flight: 'Keys being reconciled now, by controller.',
  workqueue_retries_total: 'Keys requeued with back-off, by controller.',
  api_requests_total:
    'Requests to the Kubernetes API by verb, HTTP code (0: no answer) and resource (plural.group).',
  api_request_duration_seconds:
    'Duration of requests to the Kubernetes API by verb (a watch lasts as long as it stays open).',
  informer_loop_events_total: 'Informer lists, relists, 410s, stale watches and reconnects.',
  provider_calls_total:
    'Provider calls by provider, operation and outcome (done, inProgress, failed, error).',
  provider_call_duration_seconds: 'Duration of provider calls by provider and operation.',
  aws_api_calls_total:
    'AWS API calls made by the providers, by IAM service prefix (ec2, elasticloadbalancing, eks, sts) and operation; once per call, SDK retries not counted.',
  leader: '1 while this process holds the leader-election lease.',
  shards_held: 'Shards whose Lease this replica holds (--shards above 1; docs/sharding.md).',
  shard_replicas: 'Replicas this replica counts as live from their member Leases (--shards above 1).',
} as const;
type MetricName = keyof typeof HELP;

export type ReconcileResult = 'success' | 'requeue' | 'error' | 'terminal';

export interface RuntimeMetricsOptions {
  /** Also export the process metrics (CPU, memory, event loop lag, ...). Default true. */
  processMetrics?: boolean;
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly queues = new Map<string, Set<QueueView>>();

  readonly reconcileTotal = this.counter('reconcile_total', ['controller', 'result']);
  readonly reconcileErrors = this.counter('reconcile_errors_total', ['controller']);
  readonly reconcileDuration = this.histogram('reconcile_duration_seconds', ['controller']);
  readonly queueDepth = this.queueGauge('workqueue_depth', (q) => q.len());
  readonly queueInFlight = this.queueGauge('workqueue_in_flight', (q) => q.inFlight());
  readonly queueRetries = this.counter('workqueue_retries_total', ['name']);
  readonly apiRequests = this.counter('api_requests_total', ['verb', 'code', 'resource']);
  readonly apiRequestDuration = this.histogram('api_request_duration_seconds', ['verb']);
  readonly informerLoop = this.counter('informer_loop_events_total', ['informer', 'event']);
  readonly providerCalls = this.counter('provider_calls_total', ['provider', 'operation', 'outcome']);
  readonly providerCallDuration = this.histogram('provider_call_duration_seconds', ['provider', 'operation']);
  // Labels stay service + operation (bounded by the SDK's operations), never a cluster or region.
  readonly awsApiCalls = this.counter('aws_api_calls_total', ['service', 'operation']);
  readonly leader = new Gauge({
    name: `${PREFIX}leader`,
    help: HELP.leader,
    labelNames: ['lease'],
    registers: [this.registry],
  });

  readonly shardsHeld = this.gauge('shards_held');
  readonly shardReplicas = this.gauge('shard_replicas');

  constructor(opts: RuntimeMetricsOptions = {}) {
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
  }

  // The metrics above are ours: prefixed, and registered in this instance's registry only.
  private counter<L extends string>(name: MetricName, labelNames: L[]): Counter<L> {
    return new Counter({
      name: `${PREFIX}${name}`,
      help: HELP[name],
      labelNames,
      registers: [this.registry],
    });
  }

  private gauge(name: MetricName): Gauge {
    return new Gauge({ name: `${PREFIX}${name}`, help: HELP[name], registers: [this.registry] });
  }

  private histogram<L extends string>(name: MetricName, labelNames: L[]): Histogram<L> {
    return new Histogram({
      name: `${PREFIX}${name}`,
      help: HELP[name],
      labelNames,
      buckets: DURATION_BUCKETS,
      registers: [this.registry],
    });
  }

  /** A gauge, by queue name, of `read` summed over that name's queues, computed at each scrape. */
  private queueGauge(name: MetricName, read: (queue: QueueView) => number): Gauge<'name'> {
    const queues = this.queues;
    return new Gauge({
      name: `${PREFIX}${name}`,
      help: HELP[name],
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [queueName, set] of queues) {
          let sum = 0;
          for (const q of set) sum += read(q);
          this.set({ name: queueName }, sum);
        }
      },
    });
  }

  /** Exposes a queue's depth under `name` until the returned function is called. */
  trackQueue(name: string, queue: QueueView): () => void {
    let set = this.queues.get(name);
    if (!set) {
      set = new Set();
      this.queues.set(name, set);
    }
    set.add(queue);
    return () => {
      set.delete(queue);
    };
  }

  /** A RequestObserver for KubeClient and instrumentedApiClient. */
  readonly observeApiRequest: RequestObserver = (verb, code, durationMs, resource) => {
    this.apiRequests.inc({ verb, code: String(code), resource });
    this.apiRequestDuration.observe({ verb }, durationMs / 1000);
  };

  /** An AwsClientFactory `onCall` observer: counts the call in clusterforge_aws_api_calls_total. */
  readonly observeAwsCall = (call: { service: string; operation: string }): void => {
    this.awsApiCalls.inc({ service: call.service, operation: call.operation });
  };

  observeReconcile(controller: string, result: ReconcileResult, durationMs: number): void {
    this.reconcileTotal.inc({ controller, result });
    if (result === 'error' || result === 'terminal') this.reconcileErrors.inc({ controller });
    this.reconcileDuration.observe({ controller }, durationMs / 1000);
  }

  /** The text served on /metrics. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

let defaultInstance: RuntimeMetrics | undefined;

/** The process-wide metrics (created on first use). */
export function defaultMetrics(): RuntimeMetrics {
  defaultInstance ??= new RuntimeMetrics();
  return defaultInstance;
}

/** The outcome label of a provider call's result: a Progress `state` (or `progress.state`) when it has one. */
function outcomeOf(result: unknown): string {
  if (typeof result === 'object' && result !== null) {
    const state = (result as { state?: unknown }).state;
    if (typeof state === 'string') return state;
    const progress = (result as { progress?: { state?: unknown } }).progress;
    if (typeof progress?.state === 'string') return progress.state;
  }
  return 'done';
}

/**
 * Runs one provider call and records it: `clusterforge_provider_calls_total{provider, operation, outcome}`
 * (outcome: the returned Progress's state, or `error` when it throws) and the duration histogram.
 *
 *   const status = await observeProviderCall('aws-ec2', 'ensureInfrastructure', () => svc.ensure(ctx));
 */
export async function observeProviderCall<T>(
  provider: string,
  operation: string,
  call: () => Promise<T>,
  metrics: RuntimeMetrics = defaultMetrics(),
): Promise<T> {
  const started = performance.now();
  let outcome = 'error';
  try {
    const result = await call();
    outcome = outcomeOf(result);
    return result;
  } finally {
    metrics.providerCalls.inc({ provider, operation, outcome });
    metrics.providerCallDuration.observe({ provider, operation }, (performance.now() - started) / 1000);
  }
}

/**
 * Like `kubeConfig.makeApiClient(CoreV1Api)`, but every request is counted in
 * clusterforge_api_requests_total (by Kubernetes verb and HTTP code) through `observe`.
 */
export function instrumentedApiClient<T>(
  kubeConfig: KubeConfig,
  apiClientType: new (config: Configuration) => T,
  observe: RequestObserver = defaultMetrics().observeApiRequest,
): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const inner = new IsomorphicFetchHttpLibrary();
  const httpApi = wrapHttpLibrary({
    async send(request): Promise<ResponseContext> {
      const url = new URL(request.getUrl());
      const started = performance.now();
      let code = 0;
      try {
        const response = await inner.send(request).toPromise();
        code = response.httpStatusCode;
        return response;
      } finally {
        observe(
          kubeVerb(request.getHttpMethod(), url.pathname, url.searchParams),
          code,
          performance.now() - started,
          kubeResource(url.pathname),
        );
      }
    },
  });
  return new apiClientType(
    createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      httpApi,
    }),
  );
}
