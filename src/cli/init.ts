// `clusterforge init`: installs (or upgrades) Clusterforge in the management cluster with server-side
// apply, then waits for the operator to roll out. A second run changes nothing.
import { Command, InvalidArgumentError, Option } from 'commander';
import { Progress } from '../devenv/progress.js';
import { isNotFound } from '../runtime/errors.js';
import type { KubeClient } from '../runtime/transport.js';
import {
  action,
  connect,
  formatObjects,
  type KubeFlags,
  type OutputFormat,
  outputOption,
  packageRoot,
  packageVersion,
  parseBoolean,
  parseDuration,
  toCliError,
  usageExits,
  wholeNumber,
  withKubeFlags,
} from './common.js';
import { type Applied, displayName, hasServiceMonitorCRD, serverSideApply } from './install/apply.js';
import {
  AWS_CREDENTIALS_SECRET,
  FIELD_MANAGER,
  installObjects,
  type KubeObject,
  LOG_LEVELS,
  type LogLevel,
  METRICS_PORT,
  OPERATOR_NAME,
  PROVIDERS,
  parseProviders,
  SECRET_NAME,
} from './install/manifests.js';
import { parseApiServer } from './install/pod-network.js';
import {
  type DeploymentLike,
  formatDuration,
  type PodLike,
  podHints,
  pollUntil,
  rolloutStep,
  type Step,
} from './wait.js';

interface InitFlags extends KubeFlags {
  infrastructure: string;
  namespace: string;
  image?: string;
  dryRun?: boolean;
  output?: OutputFormat;
  wait: boolean;
  waitTimeout: number;
  shards: number;
  serviceMonitor: ServiceMonitorWhen;
  logLevel?: LogLevel;
  awsCredentialsSecret?: string;
  hostNetwork?: boolean;
  apiServer?: string;
  metricsPort: number;
}

/** When init adds a ServiceMonitor for the metrics Service. */
const SERVICE_MONITOR_WHEN = ['auto', 'always', 'never'] as const;
type ServiceMonitorWhen = (typeof SERVICE_MONITOR_WHEN)[number];

const EXAMPLES = `
Examples:
  # Install the operator with the local provider, and wait until it runs
  clusterforge init

  # With the AWS providers (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...)
  clusterforge init --infrastructure local,aws-ec2,aws-eks

  # Simulated clusters only (scale tests, API demos); no AWS credentials needed
  clusterforge init --infrastructure inmemory

  # Everything init would apply, for a GitOps repository; touches nothing
  clusterforge init --dry-run -o yaml > clusterforge.yaml

  # Apply and return at once (CI)
  clusterforge init --wait=false

  # Three replicas, each reconciling a third of the clusters (docs/sharding.md)
  clusterforge init --shards 3

  # AWS credentials from a Secret you made (or sealed) yourself: none in the output
  clusterforge init --infrastructure aws-ec2 --aws-credentials-secret my-aws-creds --dry-run -o yaml

  # A cluster without kube-proxy, where the kubernetes Service does not route (docs/cli.md#init)
  clusterforge init --host-network --api-server 10.0.0.10:6443 --metrics-port 9443`;

/** A TCP port, for commander. */
function port(text: string): number {
  const n = wholeNumber(1)(text);
  if (n > 65535) throw new InvalidArgumentError(`'${text}' is not a port (1 to 65535)`);
  return n;
}

export function initCommand(): Command {
  const cmd = withKubeFlags(
    new Command('init')
      .description(
        'Install or upgrade Clusterforge in the management cluster: CRDs, RBAC, the operator Deployment',
      )
      .option(
        '-i, --infrastructure <providers>',
        `comma-separated providers to enable: ${PROVIDERS.join(', ')}`,
        'local',
      )
      .option('-n, --namespace <ns>', 'namespace of the operator', 'clusterforge-system')
      .option('--image <image>', 'operator image (default: ghcr.io/clusterforge/clusterforge:v<version>)')
      .option('--dry-run', 'print the objects instead of applying them (with -o yaml or -o json)')
      .addOption(
        new Option(
          '--shards <n>',
          'operator replicas, each owning a share of the clusters (docs/sharding.md)',
        )
          .argParser(wholeNumber(1))
          .default(1),
      )
      .addOption(
        new Option(
          '--service-monitor <when>',
          'add a ServiceMonitor (Prometheus Operator) for the metrics Service: auto = when its CRD is installed (never with --dry-run)',
        )
          .choices(SERVICE_MONITOR_WHEN)
          .default('auto'),
      )
      .option(
        '--api-server <host:port>',
        'the API server address the operator uses instead of the kubernetes Service (KUBERNETES_SERVICE_HOST/PORT), for clusters without kube-proxy',
      )
      .option(
        '--host-network',
        "run the operator in the node's network namespace (Pod Security level privileged for its namespace)",
      )
      .addOption(
        new Option('--metrics-port <port>', 'port of /metrics, /healthz and /readyz in the pod')
          .argParser(port)
          .default(METRICS_PORT),
      )
      .addOption(
        new Option('--log-level <level>', "the operator's LOG_LEVEL (default: the operator's, info)").choices(
          LOG_LEVELS,
        ),
      )
      .addOption(
        new Option(
          '--aws-credentials-secret <name>',
          'an existing Secret in the namespace with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...: referenced instead of one made from the environment',
        ).argParser(secretName),
      )
      .addOption(
        outputOption(['yaml', 'json'], 'print objects (with --dry-run) or the results as yaml or json'),
      )
      .addOption(
        new Option('--wait [bool]', 'wait for the operator to roll out; --wait=false returns at once')
          .argParser(parseBoolean)
          .default(true)
          .preset(true),
      )
      .addOption(
        new Option('--wait-timeout <duration>', 'how long to wait for the rollout (e.g. 90s, 5m)')
          .argParser(parseDuration)
          .default(300_000, '5m'),
      ),
  )
    .addHelpText('after', EXAMPLES)
    .action(action('init', runInit));
  return usageExits(cmd);
}

/** A Secret's name is a DNS subdomain (RFC 1123); said here rather than by the API server after half an install. */
function secretName(text: string): string {
  if (text === '' || text.length > 253 || !SECRET_NAME.test(text)) {
    throw new InvalidArgumentError('not a Secret name (lower-case letters, digits, - and .)');
  }
  return text;
}

async function runInit(flags: InitFlags): Promise<void> {
  const version = packageVersion();
  const providers = parseProviders(flags.infrastructure);
  const apiServer = flags.apiServer === undefined ? undefined : parseApiServer(flags.apiServer);
  const objectsFor = (serviceMonitor: boolean) =>
    installObjects({
      namespace: flags.namespace,
      image: flags.image ?? `ghcr.io/clusterforge/clusterforge:v${version}`,
      providers,
      version,
      env: process.env,
      crdDir: new URL('crds/', packageRoot()),
      shards: flags.shards,
      serviceMonitor,
      ...(flags.logLevel ? { logLevel: flags.logLevel } : {}),
      ...(flags.awsCredentialsSecret ? { awsCredentialsSecret: flags.awsCredentialsSecret } : {}),
      metricsPort: flags.metricsPort,
      ...(flags.hostNetwork ? { hostNetwork: true } : {}),
      ...(apiServer ? { apiServer } : {}),
    });

  if (flags.dryRun) {
    const objects = objectsFor(flags.serviceMonitor === 'always');
    if (objects.some((o) => o.kind === 'Secret')) {
      process.stderr.write(
        `warning: the output holds your AWS credentials in the Secret ${AWS_CREDENTIALS_SECRET}; encrypt it (SOPS, Sealed Secrets) before it goes into Git\n`,
      );
    }
    process.stdout.write(formatObjects(objects, flags.output ?? 'yaml'));
    return;
  }

  const { client, server } = await connect(flags);
  let withMonitor = flags.serviceMonitor === 'always';
  try {
    if (flags.serviceMonitor === 'auto') withMonitor = await hasServiceMonitorCRD(client);
  } catch (err) {
    throw toCliError(err, server);
  }
  const objects = objectsFor(withMonitor);
  // With -o, stdout carries the results only; progress goes to stderr.
  const out = flags.output ? process.stderr : process.stdout;
  const say = (line: string) => out.write(`${line}\n`);
  say(
    `Installing Clusterforge ${version} into namespace ${flags.namespace} of ${server} (providers: ${providers.join(', ')})`,
  );
  const applied: Applied[] = [];
  const width = Math.max(...objects.map((o) => displayName(o).length));
  try {
    for (const obj of objects) {
      const { result } = await serverSideApply(client, obj, FIELD_MANAGER);
      applied.push({
        kind: obj.kind,
        name: obj.metadata.name,
        ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
        result,
      });
      say(`  ${displayName(obj).padEnd(width)}  ${result}`);
    }
  } catch (err) {
    throw toCliError(err, server);
  }
  const changed = applied.filter((a) => a.result !== 'unchanged').length;
  say(changed === 0 ? 'Nothing changed.' : `${changed} of ${applied.length} objects created or changed.`);

  if (flags.wait) {
    await waitForOperator(client, objects, flags, out);
  }
  if (flags.output) {
    process.stdout.write(formatObjects(applied, flags.output));
  } else {
    say('');
    say('Next: write a cluster and apply it:');
    say('  clusterforge generate cluster my-cluster --infrastructure local | kubectl apply -f -');
  }
}

async function waitForOperator(
  client: KubeClient,
  objects: KubeObject[],
  flags: InitFlags,
  stream: NodeJS.WriteStream,
): Promise<void> {
  const timeoutFix = `see kubectl -n ${flags.namespace} describe deployment ${OPERATOR_NAME}; or run init with --wait=false`;
  const progress = new Progress('waiting for the operator', { stream });
  const started = Date.now();
  // Both waits share one --wait-timeout budget, one progress line and one fix.
  const waitFor = (what: string, intervalMs: number, check: () => Promise<Step>) =>
    pollUntil({
      what,
      timeoutMs: Math.max(1000, flags.waitTimeout - (Date.now() - started)),
      intervalMs,
      timeoutFix,
      timeoutLabel: formatDuration(flags.waitTimeout),
      onStep: (m) => progress.update(m),
      check,
    });
  try {
    // The CRDs first: a Cluster applied right after init must find its kind served.
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name);
    await waitFor('the CRDs to be established', 250, async () => {
      const pending: string[] = [];
      for (const name of crds) {
        const crd = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>({
          method: 'GET',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        });
        const established = crd.status?.conditions?.some(
          (c) => c.type === 'Established' && c.status === 'True',
        );
        if (!established) pending.push(name);
      }
      return pending.length === 0
        ? { state: 'done', value: undefined, message: 'CRDs established' }
        : { state: 'waiting', message: `CRDs not established yet: ${pending.join(', ')}` };
    });
    const deploymentPath = `/apis/apps/v1/namespaces/${encodeURIComponent(flags.namespace)}/deployments/${OPERATOR_NAME}`;
    const podsPath = `/api/v1/namespaces/${encodeURIComponent(flags.namespace)}/pods`;
    await waitFor(`Deployment ${flags.namespace}/${OPERATOR_NAME} to roll out`, 1000, async () => {
      let deployment: DeploymentLike;
      try {
        deployment = await client.request<DeploymentLike>({ method: 'GET', path: deploymentPath });
      } catch (err) {
        if (isNotFound(err))
          return {
            state: 'failed',
            message: `Deployment ${flags.namespace}/${OPERATOR_NAME} disappeared while we waited`,
          };
        throw err;
      }
      const step = rolloutStep(deployment);
      if (step.state !== 'waiting') return step;
      const pods = await client.request<{ items: PodLike[] }>({
        method: 'GET',
        path: podsPath,
        query: {
          labelSelector: 'app.kubernetes.io/name=clusterforge,app.kubernetes.io/component=operator',
        },
      });
      const hints = podHints(pods.items);
      return hints.length ? { state: 'waiting', message: `${step.message}; ${hints.join('; ')}` } : step;
    });
    progress.done(`Operator running in ${flags.namespace}`);
  } catch (err) {
    progress.fail();
    throw err;
  }
}
