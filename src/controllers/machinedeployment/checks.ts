// What the API server cannot refuse about a MachineDeployment, because it is about other objects:
// the Cluster it names, and room in the cluster's pod block for the nodes of every pool. Each check
// gives the sentence with the fix, said at once on the object.
import type { Cluster, MachineDeployment } from '../../api/v1alpha1/index.js';
import { controlPlaneOfCluster, deploymentsOfCluster, machinesOfDeployment } from '../common/queries.js';
import type { ControllerDeps } from '../deps.js';

/**
 * How long a MachineDeployment waits for its Cluster before it is Stalled: a GitOps tool applies the
 * objects of a cluster within seconds of each other, in any order; past this, a person must act.
 */
export const MISSING_CLUSTER_GRACE_MS = 30_000;

/** The reason and fix for a MachineDeployment whose Cluster does not exist; stalled once past the grace. */
export function missingCluster(
  md: MachineDeployment,
  now = Date.now(),
): { stalled: boolean; message: string } {
  const created = Date.parse(md.metadata.creationTimestamp ?? '');
  const stalled = Number.isFinite(created) && now - created >= MISSING_CLUSTER_GRACE_MS;
  return {
    stalled,
    message: `Cluster ${md.spec.clusterName} does not exist in namespace ${md.metadata.namespace}: create it, or delete this MachineDeployment and create it again with spec.clusterName naming an existing Cluster (clusterName cannot change)`,
  };
}

const sumReplicas = (pools: MachineDeployment[]) =>
  pools.filter((d) => !d.metadata.deletionTimestamp).reduce((n, d) => n + d.spec.replicas, 0);

/**
 * When this pool grows past the nodes the cluster's pod block holds (a /`perNode` each), the sentence
 * that says so with the fix; undefined while it fits, or while this pool does not grow (so the pools
 * already running go on).
 */
export function podBlockShortfall(
  deps: ControllerDeps,
  cluster: Cluster,
  md: MachineDeployment,
  perNode: number,
): string | undefined {
  const block = cluster.spec.clusterNetwork.pods.cidrBlocks[0] ?? '';
  const prefix = Number(block.split('/')[1]);
  if (!Number.isInteger(prefix)) return undefined;
  if (md.spec.replicas <= machinesOfDeployment(deps, md).length) return undefined;
  const holds = prefix > perNode ? 0 : 2 ** (perNode - prefix);
  const controlPlane = controlPlaneOfCluster(deps, cluster)?.spec.replicas ?? 0;
  const workers = sumReplicas(deploymentsOfCluster(deps, cluster));
  const nodes = controlPlane + workers;
  if (nodes <= holds) return undefined;
  const fits = Math.max(0, md.spec.replicas - (nodes - holds));
  return `the cluster asks for ${nodes} nodes (${controlPlane} control-plane, ${workers} workers) and its pod block ${block} holds ${holds}, a /${perNode} each: set spec.replicas to ${fits} or fewer, or create a new cluster with a wider clusterNetwork.pods block, which cannot change (a /16 holds 256 nodes)`;
}
