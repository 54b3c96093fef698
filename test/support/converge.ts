// Waiting until a cluster has converged on its spec, as `kubectl wait` and a person would judge it.
import type { KubeConfig } from '@kubernetes/client-node';
import { getObject, listObjects, waitFor } from './operator.js';

const ready = (o: any) => o?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const observed = (o: any) => (o?.status?.observedGeneration ?? -1) >= (o?.metadata?.generation ?? 0);

/** A readable dump of the cluster's objects, for a timeout message. */
export async function describeCluster(kc: KubeConfig, namespace: string, name: string): Promise<string> {
  const lines: string[] = [];
  const cluster = await getObject(kc, 'clusters', namespace, name);
  lines.push(`Cluster ${name}: ${JSON.stringify(cluster?.status?.lifecycle)} ${summary(cluster)}`);
  for (const plural of ['controlplanes', 'machinedeployments', 'machines']) {
    for (const o of await listObjects(kc, plural, namespace)) {
      lines.push(
        `  ${o.kind} ${o.metadata.name} ${o.spec.version ?? ''} ${o.status?.phase ?? ''} ${summary(o)}`,
      );
    }
  }
  return lines.join('\n');
}

function summary(o: any): string {
  return (o?.status?.conditions ?? [])
    .map((c: any) => `${c.type}=${c.status}${c.status !== 'True' && c.message ? `(${c.message})` : ''}`)
    .join(' ');
}

/** Until the Cluster, its ControlPlane and every MachineDeployment are Ready at their current generation. */
export async function waitConverged(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<any> {
  return waitFor(
    `cluster ${name} to converge`,
    async () => {
      const cluster = await getObject(kc, 'clusters', namespace, name);
      if (!ready(cluster) || !observed(cluster)) return undefined;
      const cp = await getObject(kc, 'controlplanes', namespace, cluster.spec.controlPlaneRef.name);
      const cpDone =
        ready(cp) &&
        observed(cp) &&
        cp.status.readyReplicas === cp.spec.replicas &&
        cp.status.replicas === cp.spec.replicas &&
        cp.status.updatedReplicas === cp.spec.replicas;
      if (!cpDone) return undefined;
      const pools = (await listObjects(kc, 'machinedeployments', namespace)).filter(
        (d) => d.spec.clusterName === name,
      );
      const poolsDone = pools.every(
        (d) =>
          ready(d) &&
          observed(d) &&
          d.status.readyReplicas === d.spec.replicas &&
          d.status.replicas === d.spec.replicas &&
          d.status.updatedReplicas === d.spec.replicas,
      );
      return poolsDone ? cluster : undefined;
    },
    { timeoutMs, intervalMs: 300, describe: () => describeCluster(kc, namespace, name) },
  );
}
