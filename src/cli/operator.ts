// `clusterforge operator`: runs the controllers (what the in-cluster Deployment runs; also usable
// from a laptop against any management cluster).
import { Command, Option } from 'commander';

interface Flags {
  kubeconfig?: string;
  context?: string;
  metricsBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  concurrency: string;
  namespace?: string;
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
    .option('--concurrency <n>', 'concurrent reconciles per controller', '2')
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
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1) {
        console.error(
          `clusterforge operator: --concurrency must be a whole number of at least 1, got '${flags.concurrency}'`,
        );
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
        ...(flags.namespace ? { namespace: flags.namespace } : {}),
        handleSignals: true,
      });
      await running.manager.done;
    });
}
