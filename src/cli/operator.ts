// `clusterforge operator`: runs the controllers (what the in-cluster Deployment runs; also usable
// from a laptop against any management cluster).
import { Command, Option } from 'commander';
import { type ControllerName, DEFAULT_CONCURRENCY } from '../operator/concurrency.js';

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
    throw new Error(`--${flag} must be a whole number of at least ${min}, got '${value}'`);
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
      'where /healthz, /readyz and /metrics listen',
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
      '\nExamples:\n  clusterforge operator --kubeconfig .clusterforge/dev/kubeconfig\n  clusterforge operator --leader-elect --metrics-bind-address 0.0.0.0:8080',
    )
    .action(async (flags: Flags) => {
      // Loaded here, not at start-up: every other command would pay for the controllers and providers.
      const [{ startOperator }, { createLogger }, { loadKubeConfig }] = await Promise.all([
        import('../operator/run.js'),
        import('../runtime/log.js'),
        import('./kubeconfig.js'),
      ]);
      const log = createLogger({ name: 'clusterforge' });
      let concurrency: Record<ControllerName, number>;
      let kubeApiRateLimit: { qps: number; burst: number };
      try {
        const all = wholeNumber('concurrency', flags.concurrency, 1);
        const each = (name: ControllerName, value: string | undefined): number =>
          value === undefined ? all : wholeNumber(`${name}-concurrency`, value, 1);
        concurrency = {
          cluster: each('cluster', flags.clusterConcurrency),
          controlplane: each('controlplane', flags.controlplaneConcurrency),
          machinedeployment: each('machinedeployment', flags.machinedeploymentConcurrency),
          machine: each('machine', flags.machineConcurrency),
        };
        kubeApiRateLimit = {
          qps: wholeNumber('kube-api-qps', flags.kubeApiQps, 0),
          burst: wholeNumber('kube-api-burst', flags.kubeApiBurst, 1),
        };
      } catch (err) {
        console.error(`clusterforge operator: ${(err as Error).message}`);
        process.exitCode = 2;
        return;
      }
      const running = await startOperator({
        kubeConfig: loadKubeConfig(flags),
        log,
        metricsBindAddress: flags.metricsBindAddress,
        leaderElect: flags.leaderElect,
        leaderElectionNamespace: flags.leaderElectionNamespace,
        concurrency,
        ...(kubeApiRateLimit.qps > 0 ? { kubeApiRateLimit } : {}),
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
        handleSignals: true,
      });
      await running.manager.done;
    });
}
