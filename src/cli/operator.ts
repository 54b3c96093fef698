// `clusterforge operator`: runs the controllers (what the in-cluster Deployment runs; also usable
// from a laptop against any management cluster).
import { Command, Option } from 'commander';
import { type ControllerName, DEFAULT_CONCURRENCY } from '../operator/concurrency.js';
import { action, CliError, connect, ExitCode, toCliError } from './common.js';

interface Flags {
  kubeconfig?: string;
  context?: string;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline?: string;
  leaderElectRetryPeriod?: string;
  shards: string;
  concurrency: string;
  clusterConcurrency?: string;
  controlplaneConcurrency?: string;
  machinedeploymentConcurrency?: string;
  machineConcurrency?: string;
  kubeApiQps: string;
  kubeApiBurst: string;
  namespace?: string;
}

/** A flag's value as a whole number of at least `min`, or an error naming the flag. */
function wholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new CliError(`--${flag} must be a whole number of at least ${min}, got '${value}'`, ExitCode.usage);
  return n;
}

/** A duration flag (`15s`, `500ms`, `1m`; a bare number is seconds) in milliseconds, above zero. */
function duration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'] : Number.NaN;
  if (!(ms > 0))
    throw new CliError(`--${flag} must be a duration such as 15s or 500ms, got '${value}'`, ExitCode.usage);
  return ms;
}

/** The three Lease timings, as controller-runtime names them; unset ones keep leader-election.ts's defaults. */
function leaseTimings(flags: Flags) {
  const leaseMs = duration('leader-elect-lease-duration', flags.leaderElectLeaseDuration);
  if (leaseMs % 1000 !== 0)
    throw new CliError(
      `--leader-elect-lease-duration must be whole seconds (a Lease counts in seconds), got '${flags.leaderElectLeaseDuration}'`,
      ExitCode.usage,
    );
  const renew = flags.leaderElectRenewDeadline;
  const retry = flags.leaderElectRetryPeriod;
  const renewDeadlineMs = renew === undefined ? undefined : duration('leader-elect-renew-deadline', renew);
  if (renewDeadlineMs !== undefined && renewDeadlineMs >= leaseMs)
    throw new CliError(
      '--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration',
      ExitCode.usage,
    );
  return {
    leaseDurationSeconds: leaseMs / 1000,
    ...(renewDeadlineMs === undefined ? {} : { renewDeadlineMs }),
    ...(retry === undefined ? {} : { retryIntervalMs: duration('leader-elect-retry-period', retry) }),
  };
}

export function operatorCommand(): Command {
  return new Command('operator')
    .description('Run the Clusterforge controllers against the management cluster')
    .option(
      '--kubeconfig <file>',
      'kubeconfig of the management cluster (default: KUBECONFIG, ~/.kube/config, in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context to use')
    .option(
      '--metrics-bind-address <host:port>',
      'where /healthz, /readyz and /metrics (docs/observability.md) listen',
      '127.0.0.1:8080',
    )
    .option('--leader-elect', 'elect a leader on a Lease so that only one replica reconciles', false)
    .option(
      '--leader-election-namespace <ns>',
      'namespace of the leader-election Lease (and of the shard Leases)',
      'clusterforge-system',
    )
    .option(
      '--leader-elect-lease-duration <duration>',
      'how long a Lease (leader or shard) is valid without renewal; a dead replica loses it after that',
      '15s',
    )
    .option(
      '--leader-elect-renew-deadline <duration>',
      'a holder that could not renew for this long gives the Lease up (default: 2/3 of the lease duration)',
    )
    .option(
      '--leader-elect-retry-period <duration>',
      'how often a candidate tries to take a Lease (default: 1/5 of the lease duration, at least 1s)',
    )
    .option(
      '--shards <n>',
      'split the clusters over n shards, one Lease each, held by the running replicas (docs/sharding.md); 1: one leader',
      '1',
    )
    .option('--concurrency <n>', 'concurrent reconciles of each controller', String(DEFAULT_CONCURRENCY))
    .option('--cluster-concurrency <n>', 'concurrent Cluster reconciles (default: --concurrency)')
    .option('--controlplane-concurrency <n>', 'concurrent ControlPlane reconciles (default: --concurrency)')
    .option(
      '--machinedeployment-concurrency <n>',
      'concurrent MachineDeployment reconciles (default: --concurrency)',
    )
    .option('--machine-concurrency <n>', 'concurrent Machine reconciles (default: --concurrency)')
    .option('--kube-api-qps <n>', 'requests per second to the management API server; 0: no limit', '500')
    .option('--kube-api-burst <n>', 'requests that may go at once above --kube-api-qps', '1000')
    .addOption(new Option('--namespace <ns>', 'watch only this namespace (default: all)'))
    .addHelpText(
      'after',
      '\nExamples:\n  clusterforge operator --kubeconfig .clusterforge/dev/kubeconfig\n  clusterforge operator --leader-elect --metrics-bind-address 0.0.0.0:8080' +
        '\n\nSharding (--shards n, n > 1; implies --leader-elect): a Cluster and everything of it (ControlPlane,' +
        '\n  MachineDeployments, Machines, Secrets) belong to the shard that rendezvous hashing of its' +
        '\n  namespace/name picks. Each shard is the Lease clusterforge-shard-<i> in --leader-election-namespace;' +
        '\n  each replica also renews clusterforge-shard-member-<id>, counts the live replicas r from those,' +
        '\n  and holds at most ceil(n / r) shards. A replica reconciles only the keys of the shards it holds;' +
        "\n  a killed replica's shards go to the others within --leader-elect-lease-duration." +
        '\n\nLogs: one JSON object per line on stdout, at LOG_LEVEL (trace, debug, info (default), warn, error);' +
        '\n  the keys are listed in docs/cli.md ("The operator\'s logs").',
    )
    .action(
      action('operator', async (flags: Flags) => {
        const all = wholeNumber('concurrency', flags.concurrency, 1);
        const each = (name: ControllerName, value: string | undefined): number =>
          value === undefined ? all : wholeNumber(`${name}-concurrency`, value, 1);
        const concurrency: Record<ControllerName, number> = {
          cluster: each('cluster', flags.clusterConcurrency),
          controlplane: each('controlplane', flags.controlplaneConcurrency),
          machinedeployment: each('machinedeployment', flags.machinedeploymentConcurrency),
          machine: each('machine', flags.machineConcurrency),
        };
        const kubeApiRateLimit = {
          qps: wholeNumber('kube-api-qps', flags.kubeApiQps, 0),
          burst: wholeNumber('kube-api-burst', flags.kubeApiBurst, 1),
        };
        const shards = wholeNumber('shards', flags.shards, 1);
        const timings = leaseTimings(flags);
        const { kc, client, server } = await connect(flags);
        // As controller-runtime's start-up discovery: a server that cannot be reached is one error and
        // exit code 5 now, not a warning per informer every second. 30 s: the operator's request limit.
        await client.request({ method: 'GET', path: '/version', timeoutMs: 30_000 }).catch((err: unknown) => {
          throw toCliError(err, server);
        });
        // Loaded here, not at start-up: every other command would pay for the controllers and providers.
        const [{ startOperator }, { createLogger }] = await Promise.all([
          import('../operator/run.js'),
          import('../runtime/log.js'),
        ]);
        const running = await startOperator({
          kubeConfig: await kc.toClientNode(),
          log: createLogger({ name: 'clusterforge' }),
          metricsBindAddress: flags.metricsBindAddress,
          leaderElect: flags.leaderElect,
          leaderElectionNamespace: flags.leaderElectionNamespace,
          leaseTimings: timings,
          shards,
          concurrency,
          ...(kubeApiRateLimit.qps > 0 ? { kubeApiRateLimit } : {}),
          ...(flags.namespace ? { namespace: flags.namespace } : {}),
          handleSignals: true,
        });
        await running.manager.done;
      }),
    );
}
