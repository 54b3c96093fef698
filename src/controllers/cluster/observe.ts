// Turns what one reconcile saw into the lifecycle machine's Observation: pure.
import type { Observation } from '../../lifecycle/observation.js';
import { isTrue } from '../common/conditions.js';
import { isPaused } from '../common/paused.js';
import type { ClusterScope } from './scope.js';

const current = (o: { metadata: { generation?: number }; status?: { observedGeneration?: number } }) =>
  (o.status?.observedGeneration ?? -1) >= (o.metadata.generation ?? 0);

export function observe(scope: ClusterScope): Observation {
  const { cluster, controlPlane: cp, deployments, machines } = scope;
  const infrastructureReady =
    scope.infrastructure !== undefined
      ? scope.infrastructure.progress.state === 'done'
      : isTrue(cluster.status?.conditions, 'InfrastructureReady');
  const failure = scope.failure();
  const workersReady = deployments.every(
    (d) =>
      current(d) &&
      d.status?.replicas === d.spec.replicas &&
      d.status?.readyReplicas === d.spec.replicas &&
      d.status?.updatedReplicas === d.spec.replicas,
  );
  const world: Observation = {
    deleting: Boolean(cluster.metadata.deletionTimestamp),
    paused: isPaused(cluster),
    generation: cluster.metadata.generation ?? 0,
    infrastructureReady,
    controlPlaneInitialized: cp?.status?.initialized === true,
    controlPlaneReady: cp !== undefined && current(cp) && isTrue(cp.status?.conditions, 'Ready'),
    desiredVersion: cp?.spec.version ?? '',
    workersReady,
    // Every machine that exists runs its pool's version and template; missing ones are scaling.
    workersAtDesiredVersion: deployments.every(
      (d) => current(d) && (d.status?.updatedReplicas ?? 0) === (d.status?.replicas ?? 0),
    ),
    // Until the cluster has been Ready once, missing machines are provisioning, not scaling.
    replicasMatch:
      !isTrue(cluster.status?.conditions, 'Provisioned') ||
      (cp !== undefined &&
        cp.status?.replicas === cp.spec.replicas &&
        deployments.every((d) => d.status?.replicas === d.spec.replicas)),
    childrenGone: {
      workers: deployments.length === 0 && !machines.some((m) => m.spec.role === 'Worker'),
      controlPlane: cp === undefined && !machines.some((m) => m.spec.role === 'ControlPlane'),
      infrastructure: scope.infrastructureDeleted,
    },
  };
  if (cp?.status?.version) world.controlPlaneVersion = cp.status.version;
  if (failure) world.failure = { ...failure, generation: cluster.metadata.generation ?? 0 };
  return world;
}
