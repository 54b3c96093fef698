// `clusterforge delete cluster NAME [--wait]`: deletes the Cluster; the operator then removes its workers,
// control plane, infrastructure and Secrets (the Deleting condition says which step it is on).
import { Command, Option } from 'commander';
import { isPaused, unpauseCommand } from '../controllers/common/paused.js';
import { Progress } from '../devenv/progress.js';
import { resources } from '../kube/resources.js';
import { isNotFound } from '../runtime/errors.js';
import { resourcePath } from '../runtime/transport.js';
import {
  action,
  connect,
  examples,
  type KubeFlags,
  namespaceOption,
  parseBoolean,
  parseDuration,
  resolveNamespace,
  verbCommand,
  withKubeFlags,
} from './common.js';
import type { Obj } from './describe-tree.js';
import { clusterNotFound, getCluster } from './get.js';
import { formatDuration, pollUntil } from './wait.js';

interface DeleteFlags extends KubeFlags {
  namespace?: string;
  wait: boolean;
  timeout: number;
}

export function deleteCommand(): Command {
  const cluster = withKubeFlags(
    new Command('cluster')
      .description('Delete a cluster and everything it owns (machines, infrastructure, Secrets)')
      .argument('<name>', 'name of the cluster')
      .addOption(namespaceOption())
      .addOption(
        new Option('--wait [bool]', 'wait until the cluster is gone, showing each step')
          .argParser(parseBoolean)
          .default(false)
          .preset(true),
      )
      .addOption(
        new Option('--timeout <duration>', 'how long --wait waits (e.g. 90s, 10m)')
          .argParser(parseDuration)
          .default(600_000, '10m'),
      ),
  )
    .addHelpText(
      'after',
      examples(
        'clusterforge delete cluster dev --wait',
        'clusterforge delete cluster prod -n platform --wait --timeout 30m',
      ),
    )
    .action(action('delete cluster', runDelete));
  return verbCommand('delete', 'Delete a cluster', cluster, 'clusterforge delete cluster dev --wait');
}

/** What the deletion waits for, from the Cluster's Deleting condition (or its phase). */
export function deletionStep(cluster: Obj): string {
  const deleting = cluster.status?.conditions?.find((c) => c.type === 'Deleting');
  if (deleting?.message)
    return deleting.reason ? `${deleting.reason}: ${deleting.message}` : deleting.message;
  if (deleting?.reason) return deleting.reason;
  return `waiting for the operator (phase ${cluster.status?.phase ?? 'unknown'})`;
}

async function runDelete(name: string, flags: DeleteFlags): Promise<void> {
  const { kc, client } = await connect(flags);
  const namespace = resolveNamespace(kc, flags.namespace);
  const path = resourcePath(resources.Cluster, { namespace, name });
  const before = await getCluster<Obj & { spec?: { paused?: boolean } }>(client, namespace, name);
  if (!before) throw clusterNotFound(namespace, name);
  try {
    await client.request({ method: 'DELETE', path });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  process.stdout.write(`cluster.clusterforge.dev/${name} deleted (the operator now removes what it owns)\n`);
  const metadata = before.metadata as { annotations?: Record<string, string>; finalizers?: string[] };
  const target = { kind: 'Cluster', metadata: { ...metadata, name, namespace }, spec: before.spec ?? {} };
  if (isPaused(target) && (metadata.finalizers ?? []).length > 0) {
    // The command that lifts this pause: the annotation, spec.paused, or both.
    process.stderr.write(
      `warning: cluster ${name} is paused: the operator will not delete it until it is unpaused (${unpauseCommand(target)})\n`,
    );
  }
  if (!flags.wait) return;
  const progress = new Progress(`deleting cluster ${name}`);
  try {
    await pollUntil({
      what: `cluster ${namespace}/${name} to be deleted`,
      timeoutMs: flags.timeout,
      timeoutLabel: formatDuration(flags.timeout),
      intervalMs: 500,
      timeoutFix: `see what it waits for: clusterforge describe cluster ${name} -n ${namespace} --show-conditions Cluster`,
      onStep: (m) => progress.update(m),
      check: async () => {
        const cluster = await getCluster<Obj>(client, namespace, name);
        if (!cluster) return { state: 'done', value: undefined, message: 'gone' };
        return { state: 'waiting', message: deletionStep(cluster) };
      },
    });
    progress.done(`cluster ${namespace}/${name} is gone`);
  } catch (err) {
    progress.fail();
    throw err;
  }
}
