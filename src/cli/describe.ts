// `clusterforge describe cluster NAME`: the cluster as a tree, with what is ready and what is not.
import { Command, Option } from 'commander';
import { resources } from '../kube/resources.js';
import { type KubeClient, resourcePath } from '../runtime/transport.js';
import {
  action,
  CliError,
  type Colour,
  connect,
  ExitCode,
  examples,
  formatObjects,
  type KubeFlags,
  namespaceOption,
  type OutputFormat,
  outputOption,
  paint,
  parseBoolean,
  resolveNamespace,
  verbCommand,
  withKubeFlags,
} from './common.js';
import { buildTree, type ClusterObjects, type Obj, renderRows, type Tone } from './describe-tree.js';
import { clusterNotFound, getCluster } from './get.js';

const KINDS = ['Cluster', 'ControlPlane', 'MachineDeployment', 'Machine'];

interface DescribeFlags extends KubeFlags {
  namespace?: string;
  showConditions?: string;
  grouping: boolean;
  output?: OutputFormat;
}

export function describeCommand(): Command {
  const cluster = withKubeFlags(
    new Command('cluster')
      .description(
        'Show a cluster as a tree: its control plane, worker pools and machines, and what each waits for',
      )
      .argument('<name>', 'name of the cluster')
      .addOption(namespaceOption())
      .option(
        '--show-conditions <kinds>',
        `list every condition of these kinds: all, or a comma-separated list of ${KINDS.join(', ')}`,
      )
      .addOption(
        new Option(
          '--grouping [bool]',
          'put machines in the same state on one line; --grouping=false lists each',
        )
          .argParser(parseBoolean)
          .default(true)
          .preset(true),
      )
      .addOption(outputOption(['json', 'yaml'], 'print the objects (a v1 List) instead of the tree')),
  )
    .addHelpText(
      'after',
      examples(
        'clusterforge describe cluster dev',
        'clusterforge describe cluster prod -n platform --show-conditions all',
        'clusterforge describe cluster dev --show-conditions Machine --grouping=false',
      ),
    )
    .action(action('describe cluster', runDescribe));
  return verbCommand(
    'describe',
    'Show a cluster and what it is doing',
    cluster,
    'clusterforge describe cluster dev --show-conditions all',
  );
}

function parseKinds(text: string | undefined): Set<string> {
  if (!text) return new Set();
  const kinds = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (kinds.some((k) => k.toLowerCase() === 'all')) return new Set(KINDS);
  for (const k of kinds) {
    if (!KINDS.includes(k)) {
      throw new CliError(
        `--show-conditions: unknown kind '${k}'`,
        ExitCode.usage,
        `use all, or some of ${KINDS.join(', ')}`,
      );
    }
  }
  return new Set(kinds);
}

async function list(
  client: KubeClient,
  resource: (typeof resources)[keyof typeof resources],
  namespace: string,
) {
  const res = await client.request<{ items: Obj[] }>({
    method: 'GET',
    path: resourcePath(resource, { namespace }),
  });
  return res.items;
}

export async function fetchClusterObjects(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<ClusterObjects | undefined> {
  const cluster = await getCluster<Obj>(client, namespace, name);
  if (!cluster) return undefined;
  const cpName = cluster.spec?.controlPlaneRef?.name;
  const [controlPlanes, deployments, machines] = await Promise.all([
    cpName ? list(client, resources.ControlPlane, namespace) : Promise.resolve([]),
    list(client, resources.MachineDeployment, namespace),
    list(client, resources.Machine, namespace),
  ]);
  const controlPlane = controlPlanes.find((c) => c.metadata.name === cpName);
  return {
    cluster,
    ...(controlPlane ? { controlPlane } : {}),
    deployments: deployments.filter((d) => d.spec?.clusterName === name),
    machines: machines.filter((m) => m.spec?.clusterName === name),
  };
}

const TONE_COLOUR: Record<Tone, Colour | undefined> = {
  ok: 'green',
  progress: 'yellow',
  bad: 'red',
  unknown: 'gray',
  plain: undefined,
};

async function runDescribe(name: string, flags: DescribeFlags): Promise<void> {
  const showConditions = parseKinds(flags.showConditions);
  const { kc, client } = await connect(flags);
  const namespace = resolveNamespace(kc, flags.namespace);
  const objs = await fetchClusterObjects(client, namespace, name);
  if (!objs) throw clusterNotFound(namespace, name);
  if (flags.output) {
    const all = [
      objs.cluster,
      ...(objs.controlPlane ? [objs.controlPlane] : []),
      ...objs.deployments,
      ...objs.machines,
    ];
    process.stdout.write(formatObjects(all, flags.output));
    return;
  }
  const rows = buildTree(objs, { showConditions, grouping: flags.grouping });
  const lines = renderRows(rows, (tone, text) => {
    if (tone === 'header') return paint('bold', text);
    if (tone === 'condition') return paint('cyan', text);
    const colour = TONE_COLOUR[tone];
    return colour ? paint(colour, text) : text;
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}
