// `clusterforge get kubeconfig NAME`: prints the kubeconfig the operator published for a cluster (the
// Cluster API Secret <name>-kubeconfig, key `value`).
import { Command } from 'commander';
import { parse } from 'yaml';
import { resources } from '../kube/resources.js';
import { kubeconfigSecretName } from '../publish/kubeconfig-secret.js';
import { isNotFound } from '../runtime/errors.js';
import { type KubeClient, resourcePath } from '../runtime/transport.js';
import {
  action,
  CliError,
  connect,
  ExitCode,
  type KubeFlags,
  namespaceOption,
  type OutputFormat,
  outputOption,
  resolveNamespace,
  usageExits,
  withKubeFlags,
} from './common.js';

interface GetFlags extends KubeFlags {
  namespace?: string;
  output?: OutputFormat;
}

export function getCommand(): Command {
  const kubeconfig = withKubeFlags(
    new Command('kubeconfig')
      .description("Print a cluster's kubeconfig, as the operator published it")
      .argument('<name>', 'name of the cluster')
      .addOption(namespaceOption())
      .addOption(outputOption(['yaml', 'json'], 'yaml (default, as published) or json')),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  clusterforge get kubeconfig dev > dev.kubeconfig && kubectl --kubeconfig dev.kubeconfig get nodes\n  clusterforge get kubeconfig prod -n platform -o json',
    )
    .action(action('get kubeconfig', runGetKubeconfig));
  return usageExits(
    new Command('get')
      .description('Print something the operator made')
      .addHelpText('after', '\nExample:\n  clusterforge get kubeconfig dev > dev.kubeconfig')
      .addCommand(kubeconfig),
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

async function runGetKubeconfig(name: string, flags: GetFlags): Promise<void> {
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
  const text = Buffer.from(value, 'base64').toString('utf8');
  if (flags.output === 'json') process.stdout.write(`${JSON.stringify(parse(text), null, 2)}\n`);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
