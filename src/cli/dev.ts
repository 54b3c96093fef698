// `clusterforge dev up|down|status`: a whole local environment (management plane, CRDs, operator and a
// local cluster) in one folder, what `make demo` runs. See src/devenv/ (dev-env.ts, teardown.ts, status.ts).
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_DEV_DIR } from '../devenv/defaults.js';
import { parseDuration, wholeNumber } from './common.js';

// The dev environment (and the Kubernetes client under it) loads only when a dev command runs, so
// that `clusterforge --help` and the other commands start fast.
const upModule = () => import('../devenv/dev-env.js');
const downModule = () => import('../devenv/teardown.js');
const statusModule = () => import('../devenv/status.js');

function clusterName(text: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(text)) {
    throw new InvalidArgumentError(
      `'${text}' is not a cluster name (lower-case letters, digits and '-', at most 40 characters)`,
    );
  }
  return text;
}

const dirOption = () =>
  new Option('--dir <folder>', 'the folder of the dev environment (state, logs, kubeconfigs)').default(
    DEFAULT_DEV_DIR,
  );

/** Runs an action; an error becomes one message on stderr and exit code 1. */
function run<A extends unknown[]>(what: string, action: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await action(...args);
    } catch (err) {
      console.error(`clusterforge ${what}: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    }
  };
}

interface UpFlags {
  name: string;
  dir: string;
  kubernetesVersion?: string;
  workers: number;
  controlPlane: number;
  timeout: number;
}

function upCommand(): Command {
  return new Command('up')
    .description(
      'Start (or adopt) a local management plane, install the CRDs, start the operator, apply a local ' +
        'cluster and wait until it is Ready, then run the Deployment hello on its workers (2 pods of the ' +
        'image `make node-images` builds) and show one answering through kubectl port-forward. ' +
        'Everything keeps running after the command returns; ' +
        'running it again adopts what runs and starts nothing twice.',
    )
    .addOption(new Option('--name <name>', 'name of the cluster').default('demo').argParser(clusterName))
    .addOption(dirOption())
    .option(
      '--kubernetes-version <version>',
      'Kubernetes version of the cluster (and of a new management plane); default: the first of hack/kube-versions, or KUBEBUILDER_ASSETS',
    )
    .addOption(new Option('--workers <n>', 'worker machines').default(2).argParser(wholeNumber(0)))
    .addOption(
      new Option('--control-plane <n>', 'control-plane machines (1, 3, 5 or 7)')
        .default(1)
        .argParser(wholeNumber(1)),
    )
    .addOption(
      new Option(
        '--timeout <duration>',
        'how long to wait for the cluster to be Ready, then as long for its workload',
      )
        .default(5 * 60_000, '5m')
        .argParser(parseDuration),
    )
    .addHelpText(
      'after',
      `
Examples:
  clusterforge dev up                              # what \`make demo\` runs
  clusterforge dev up --workers 3                  # scale the demo cluster's workers
  clusterforge dev up --workers 0                  # no workers: the workload is skipped
  clusterforge dev up --name second --control-plane 3
  clusterforge dev up --dir /tmp/cf-dev --timeout 10m

Afterwards:
  export KUBECONFIG=${DEFAULT_DEV_DIR}/kubeconfig
  kubectl get clusterforge
  kubectl --kubeconfig ${DEFAULT_DEV_DIR}/demo.kubeconfig port-forward deployment/hello 8080:8080`,
    )
    .action(
      run('dev up', async (flags: UpFlags) => {
        await (await upModule()).devUp({
          dir: flags.dir,
          name: flags.name,
          kubernetesVersion: flags.kubernetesVersion ?? '',
          kubernetesVersionGiven: flags.kubernetesVersion !== undefined,
          controlPlane: flags.controlPlane,
          workers: flags.workers,
          timeoutMs: flags.timeout,
        });
      }),
    );
}

function downCommand(): Command {
  return new Command('down')
    .description(
      'Delete the clusters through the operator (so that their processes stop), stop the operator and ' +
        'the management plane, kill whatever still runs from the folder, and remove it. Safe when nothing runs.',
    )
    .addOption(dirOption())
    .addOption(
      new Option('--timeout <duration>', 'how long to wait for the operator to delete the clusters')
        .default(2 * 60_000, '2m')
        .argParser(parseDuration),
    )
    .addHelpText(
      'after',
      `
Examples:
  clusterforge dev down                 # what \`make demo-down\` runs
  clusterforge dev down --dir /tmp/cf-dev`,
    )
    .action(
      run('dev down', async (flags: { dir: string; timeout: number }) => {
        await (await downModule()).devDown({ dir: flags.dir, timeoutMs: flags.timeout });
      }),
    );
}

function statusCommand(): Command {
  return new Command('status')
    .description(
      'Show what runs in the dev environment: processes (pids, endpoints) and clusters (phase, Ready). ' +
        'Exit code 0 when the management plane and the operator run, 1 otherwise.',
    )
    .addOption(dirOption())
    .option('-o, --output <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      `
Examples:
  clusterforge dev status
  clusterforge dev status -o json | jq '.components[] | {name, pid, running}'`,
    )
    .action(
      run('dev status', async (flags: { dir: string; output: string }) => {
        if (flags.output !== 'text' && flags.output !== 'json') {
          throw new Error(`unknown --output '${flags.output}' (use text or json)`);
        }
        const { devStatus, printStatus } = await statusModule();
        const report = await devStatus(flags.dir);
        if (flags.output === 'json') console.log(JSON.stringify(report, null, 2));
        else printStatus(report);
        if (!report.running) process.exitCode = 1;
      }),
    );
}

export function devCommand(): Command {
  return new Command('dev')
    .description('A local dev environment: management plane, operator and a local cluster (make demo)')
    .addCommand(upCommand())
    .addCommand(downCommand())
    .addCommand(statusCommand())
    .addHelpText(
      'after',
      `
Examples:
  clusterforge dev up        # start everything, wait for the cluster, print how to use it
  clusterforge dev status    # what runs
  clusterforge dev down      # stop everything and remove ${DEFAULT_DEV_DIR}`,
    );
}
