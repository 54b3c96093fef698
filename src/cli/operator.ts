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
      'namespace of the leader-election Lease',
      'clusterforge-system',
    )
    .option('--concurrency <n>', 'concurrent reconciles of each controller', String(DEFAULT_CONCURRENCY))
    .option('--cluster-concurrency <n>', 'concurrent Cluster reconciles (default: --concurrency)')
    .option('--controlplane-concurrency <n>', 'concurrent ControlPlane reconciles (default: --concurrency)')
    .option(
      '--machinedeployment-concurrency <n>',
      'concurrent MachineDeployment reconciles (default: --concurrency)',
    )
    .option('--machine-concurrency <n>', 'concurrent Machine reconciles (default: --concurrency)')
    .option('--kube-api-qps <n>', 'requests per second to the management API server; 0: no limit', '200')
    .option('--kube-api-burst <n>', 'requests that may go at once above --kube-api-qps', '400')
    .addOption(new Option('--namespace <ns>', 'watch only this namespace (default: all)'))
    .addHelpText(
      'after',
      '\nExamples:\n  clusterforge operator --kubeconfig .clusterforge/dev/kubeconfig\n  clusterforge operator --leader-elect --metrics-bind-address 0.0.0.0:8080' +
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
          kubeConfig: kc,
          log: createLogger({ name: 'clusterforge' }),
          metricsBindAddress: flags.metricsBindAddress,
          leaderElect: flags.leaderElect,
          leaderElectionNamespace: flags.leaderElectionNamespace,
          concurrency,
          ...(kubeApiRateLimit.qps > 0 ? { kubeApiRateLimit } : {}),
          ...(flags.namespace ? { namespace: flags.namespace } : {}),
          handleSignals: true,
        });
        await running.manager.done;
      }),
    );
}
