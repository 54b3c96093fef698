// Lookups in the caches that more than one controller needs.
import type { Cluster, ControlPlane, Machine, MachineDeployment } from '../../api/v1alpha1/index.js';
import type { ControllerDeps } from '../deps.js';
import { BY_CLUSTER, BY_CONTROL_PLANE, BY_CONTROL_PLANE_REF, BY_DEPLOYMENT } from './indexes.js';

// Every lookup goes through an index of the cache: O(matches), no copies.

export function machinesOfCluster(
  deps: ControllerDeps,
  cluster: { metadata: { namespace?: string; name?: string } },
): Machine[] {
  return deps.machines.byIndex(BY_CLUSTER, cluster.metadata.namespace ?? '', cluster.metadata.name ?? '');
}

export function machinesOfControlPlane(deps: ControllerDeps, cp: ControlPlane): Machine[] {
  return deps.machines.byIndex(BY_CONTROL_PLANE, cp.metadata.namespace ?? '', cp.metadata.name ?? '');
}

export function machinesOfDeployment(deps: ControllerDeps, md: MachineDeployment): Machine[] {
  return deps.machines.byIndex(BY_DEPLOYMENT, md.metadata.namespace ?? '', md.metadata.name ?? '');
}

export function deploymentsOfCluster(deps: ControllerDeps, cluster: Cluster): MachineDeployment[] {
  return deps.deployments.byIndex(BY_CLUSTER, cluster.metadata.namespace ?? '', cluster.metadata.name ?? '');
}

/** The Cluster whose spec.controlPlaneRef names this ControlPlane. */
export function clusterOfControlPlane(deps: ControllerDeps, cp: ControlPlane): Cluster | undefined {
  return deps.clusters.byIndex(BY_CONTROL_PLANE_REF, cp.metadata.namespace ?? '', cp.metadata.name ?? '')[0];
}

export function controlPlaneOfCluster(deps: ControllerDeps, cluster: Cluster): ControlPlane | undefined {
  const ref = cluster.spec.controlPlaneRef;
  return ref ? deps.controlPlanes.get(cluster.metadata.namespace!, ref.name) : undefined;
}

export const isMachineReady = (m: Machine): boolean =>
  m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** The Machine condition, True for good once the machine has been Ready (its Node, or its API server). */
export const JOINED = 'Joined';

/** Ready now, or once: a machine that is not is still coming up (a Node registered but not Ready counts). */
export const hasJoined = (m: Machine): boolean =>
  isMachineReady(m) || (m.status?.conditions?.some((c) => c.type === JOINED && c.status === 'True') ?? false);

/** Compares v1.X.Y versions; negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.slice(1).split('.').map(Number);
  const pb = b.slice(1).split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The oldest version among the machines, or undefined when there are none. */
export function oldestVersion(machines: readonly Machine[]): string | undefined {
  return machines.map((m) => m.spec.version).sort(compareVersions)[0];
}
