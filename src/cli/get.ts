// `clusterforge get kubeconfig NAME`: prints the kubeconfig the operator published for a cluster (the
// Cluster API Secret <name>-kubeconfig, key `value`).
import { chmod, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { CAPI_CLUSTER_NAME_LABEL } from '../api/v1alpha1/labels.js';
import { resources } from '../kube/resources.js';
import { kubeconfigSecretName } from '../publish/kubeconfig-secret-names.js';
import { isNotFound } from '../runtime/errors.js';
import { type KubeClient, resourcePath } from '../runtime/transport.js';
import {
  action,
  CliError,
  connect,
  ExitCode,
  examples,
  type KubeFlags,
  namespaceOption,
  type OutputFormat,
  outputOption,
  resolveNamespace,
  verbCommand,
  withKubeFlags,
} from './common.js';

interface GetFlags extends KubeFlags {
  namespace?: string;
  output?: OutputFormat;
  all?: boolean;
  allNamespaces?: boolean;
  merge?: boolean;
  file?: string;
}

export function getCommand(): Command {
  const kubeconfig = withKubeFlags(
    new Command('kubeconfig')
      .description("Print a cluster's kubeconfig, as the operator published it")
      .argument('[name]', 'name of the cluster (or --all)')
      .addOption(namespaceOption())
      .option('--all', 'every cluster of the namespace (with -A: of every namespace)', false)
      .option('-A, --all-namespaces', 'with --all: look in every namespace', false)
      .option(
        '--merge',
        'with --all: one kubeconfig with a <cluster>-admin@<cluster> context per cluster',
        false,
      )
      .option('--file <path>', 'write to this file (mode 0600) instead of printing')
      .addOption(outputOption(['yaml', 'json'], 'yaml (default, as published) or json')),
  )
    .addHelpText(
      'after',
      examples(
        'clusterforge get kubeconfig dev > dev.kubeconfig && kubectl --kubeconfig dev.kubeconfig get nodes',
        'clusterforge get kubeconfig prod -n platform -o json',
        'clusterforge get kubeconfig --all -A --merge --file clusters.kubeconfig && kubectl --kubeconfig clusters.kubeconfig --context dev-admin@dev get nodes',
      ),
    )
    .action(action('get kubeconfig', runGetKubeconfig));
  return verbCommand(
    'get',
    'Print something the operator made',
    kubeconfig,
    'clusterforge get kubeconfig dev > dev.kubeconfig',
  );
}

/** The Cluster, or undefined when it does not exist. */
export async function getCluster<T = unknown>(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return await client.request<T>({
      method: 'GET',
      path: resourcePath(resources.Cluster, { namespace, name }),
    });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function clusterNotFound(namespace: string, name: string): CliError {
  return new CliError(
    `cluster ${name} not found in namespace ${namespace}`,
    ExitCode.notFound,
    `find it with kubectl get clusters.clusterforge.dev -A, then pass -n NAMESPACE`,
  );
}

async function runGetKubeconfig(name: string | undefined, flags: GetFlags): Promise<void> {
  if (flags.all) return runGetAllKubeconfigs(name, flags);
  if (!name)
    throw new CliError(
      'give the name of a cluster, or --all --merge',
      ExitCode.usage,
      'clusterforge get kubeconfig NAME',
    );
  const { kc, client } = await connect(flags);
  const namespace = resolveNamespace(kc, flags.namespace);
  const secretName = kubeconfigSecretName(name);
  let secret: { data?: Record<string, string> } | undefined;
  try {
    secret = await client.request({
      method: 'GET',
      path: resourcePath(resources.Secret, { namespace, name: secretName }),
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const value = secret?.data?.value;
  if (!value) {
    if (!(await getCluster(client, namespace, name))) throw clusterNotFound(namespace, name);
    throw new CliError(
      `the kubeconfig of cluster ${name} is not published yet (Secret ${namespace}/${secretName} ${secret ? 'has no key value' : 'does not exist'})`,
      ExitCode.notFound,
      `is the cluster Ready? see: clusterforge describe cluster ${name} -n ${namespace}`,
    );
  }
  await emit(Buffer.from(value, 'base64').toString('utf8'), flags);
}

/** Every published kubeconfig Secret (label cluster.x-k8s.io/cluster-name), merged into one file. */
async function runGetAllKubeconfigs(name: string | undefined, flags: GetFlags): Promise<void> {
  if (name)
    throw new CliError(
      '--all takes no cluster name',
      ExitCode.usage,
      'clusterforge get kubeconfig --all --merge',
    );
  if (!flags.merge) {
    throw new CliError(
      '--all needs --merge (one file for all clusters)',
      ExitCode.usage,
      'clusterforge get kubeconfig --all --merge',
    );
  }
  const { kc, client } = await connect(flags);
  const namespace = flags.allNamespaces ? undefined : resolveNamespace(kc, flags.namespace);
  const list = await client.request<{
    items: {
      metadata: { name: string; namespace: string; labels?: Record<string, string> };
      data?: Record<string, string>;
    }[];
  }>({
    method: 'GET',
    path: resourcePath(resources.Secret, { namespace }),
    query: { labelSelector: CAPI_CLUSTER_NAME_LABEL },
  });
  const published = list.items
    .filter(
      (s) =>
        s.metadata.name === kubeconfigSecretName(s.metadata.labels?.[CAPI_CLUSTER_NAME_LABEL] ?? '') &&
        s.data?.value,
    )
    .map((s) => ({
      namespace: s.metadata.namespace,
      cluster: s.metadata.labels![CAPI_CLUSTER_NAME_LABEL]!,
      kubeconfig: Buffer.from(s.data!.value!, 'base64').toString('utf8'),
    }));
  if (published.length === 0) {
    throw new CliError(
      `no published kubeconfig in ${namespace ? `namespace ${namespace}` : 'any namespace'}`,
      ExitCode.notFound,
      'clusters publish theirs once Ready: see kubectl get clusters.clusterforge.dev -A',
    );
  }
  // Loaded here, as yaml in emit: a plain `get kubeconfig NAME` starts without them (issue #15's 2x kubectl).
  const { mergeKubeconfigs } = await import('../publish/merged-kubeconfig.js');
  await emit(mergeKubeconfigs(published), flags);
}

async function emit(text: string, flags: GetFlags): Promise<void> {
  const out =
    flags.output === 'json'
      ? `${JSON.stringify((await import('yaml')).parse(text), null, 2)}\n`
      : text.endsWith('\n')
        ? text
        : `${text}\n`;
  if (flags.file) {
    await writeFile(flags.file, out, { mode: 0o600 });
    await chmod(flags.file, 0o600); // also when the file existed: it holds credentials
    process.stderr.write(`wrote ${flags.file}\n`);
  } else {
    process.stdout.write(out);
  }
}
