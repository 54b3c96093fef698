// Turns what one reconcile saw into the lifecycle machine's Observation: pure.
//
// Where the machines are ours (a self-managed control plane, pools of Machines) the facts are read from
// the Machines themselves, not from the owners' status: a status lags its spec (a `kubectl scale` bumps
// the generation before any controller has looked) and counts a machine being deleted in `replicas` but
// not in `updatedReplicas`, which made a scale-down read as an upgrade. A managed control plane or node
// pool (EKS) has no Machines: there its status is all there is.
import type { ControlPlane, Machine, MachineDeployment } from '../../api/v1alpha1/index.js';
import { CONTROL_PLANE_NAME_LABEL, DEPLOYMENT_NAME_LABEL } from '../../api/v1alpha1/labels.js';
import type { Observation } from '../../lifecycle/observation.js';
import { isTrue } from '../common/conditions.js';
import { isPaused } from '../common/paused.js';
import { hasJoined, isMachineReady, oldestVersion } from '../common/queries.js';
import type { ClusterScope } from './scope.js';

const current = (o: { metadata: { generation?: number }; status?: { observedGeneration?: number } }) =>
  (o.status?.observedGeneration ?? -1) >= (o.metadata.generation ?? 0);

/** The Machines of one owner, with what its spec asks of them. */
interface Owned {
  machines: Machine[];
  replicas: number;
  version: string;
  template: string | undefined;
}

const live = (o: Owned) => o.machines.filter((m) => !m.metadata.deletionTimestamp);

/**
 * A machine of another version or template exists, even one being deleted: a rollout lasts from its first
 * machine to its last, so the old machine's removal is still the upgrade, not a scale-down.
 */
const rolling = (o: Owned) =>
  o.machines.some((m) => m.spec.version !== o.version || m.spec.machineTemplateRef.name !== o.template);

/**
 * A live machine that has never been Ready: it is still coming up, even once its Node registered (a
 * kubelet's Node is NotReady for a while). One that was Ready and lost it has joined: not a scale.
 */
const joining = (m: Machine) => !m.metadata.deletionTimestamp && !hasJoined(m);

/** Exactly the desired machines, each up: none missing, none extra or being removed, none still joining. */
const counted = (o: Owned) => o.machines.length === o.replicas && !o.machines.some(joining);

const allReady = (o: Owned) =>
  o.machines.length === o.replicas && !rolling(o) && live(o).every(isMachineReady);

function ownedByControlPlane(cp: ControlPlane, machines: Machine[]): Owned {
  return {
    machines: machines.filter(
      (m) =>
        m.spec.role === 'ControlPlane' && m.metadata.labels?.[CONTROL_PLANE_NAME_LABEL] === cp.metadata.name,
    ),
    replicas: cp.spec.replicas,
    version: cp.spec.version,
    template: cp.spec.machineTemplateRef?.name,
  };
}

function ownedByPool(md: MachineDeployment, machines: Machine[]): Owned {
  return {
    machines: machines.filter((m) => m.metadata.labels?.[DEPLOYMENT_NAME_LABEL] === md.metadata.name),
    replicas: md.spec.replicas,
    version: md.spec.version,
    template: md.spec.machineTemplateRef.name,
  };
}

/** One part's readiness and how many of its machines are ready. */
export interface PartReadiness {
  ready: boolean;
  readyMachines: number;
}

/**
 * Whether the control plane and each pool are ready, from the Machines where they are ours. The phase and
 * the Cluster's ControlPlaneReady and WorkersReady conditions both read this, so they always agree: an
 * owner's status written a moment later (it lags the Machines) can make neither say Ready alone.
 */
export function readiness(scope: ClusterScope): {
  controlPlane: PartReadiness;
  pools: (PartReadiness & { deployment: MachineDeployment })[];
} {
  const { controlPlane: cp, deployments, machines } = scope;
  const ours = scope.provider.selfManagedControlPlane;
  const members = ours && cp ? ownedByControlPlane(cp, machines) : undefined;
  const byMachines = members !== undefined && members.machines.length > 0;
  return {
    // An owner being deleted is not ready, whatever its machines say while they go.
    controlPlane: {
      ready:
        cp !== undefined &&
        !cp.metadata.deletionTimestamp &&
        (byMachines ? allReady(members) : current(cp) && isTrue(cp.status?.conditions, 'Ready')),
      readyMachines: byMachines
        ? live(members).filter(isMachineReady).length
        : (cp?.status?.readyReplicas ?? 0),
    },
    pools: deployments.map((d) => {
      if (!ours) {
        const ready =
          !d.metadata.deletionTimestamp &&
          current(d) &&
          d.status?.replicas === d.spec.replicas &&
          d.status?.readyReplicas === d.spec.replicas &&
          d.status?.updatedReplicas === d.spec.replicas;
        return { deployment: d, ready, readyMachines: d.status?.readyReplicas ?? 0 };
      }
      const owned = ownedByPool(d, machines);
      return {
        deployment: d,
        ready: !d.metadata.deletionTimestamp && allReady(owned),
        readyMachines: live(owned).filter(isMachineReady).length,
      };
    }),
  };
}

/**
 * Whether the control plane serves: its status says so, or (machines of ours) one of its machines is
 * Ready, which the ControlPlane's status tells only a reconcile later. The lifecycle and the kubeconfig
 * task read this, as ControlPlaneReady reads the Machines, so one Cluster write carries all three.
 */
export function controlPlaneInitialized(scope: ClusterScope): boolean {
  const cp = scope.controlPlane;
  if (!cp) return false;
  if (cp.status?.initialized === true) return true;
  if (!scope.provider.selfManagedControlPlane) return false;
  return live(ownedByControlPlane(cp, scope.machines)).some(isMachineReady);
}

export function observe(scope: ClusterScope): Observation {
  const { cluster, controlPlane: cp, deployments, machines } = scope;
  const ours = scope.provider.selfManagedControlPlane;
  const infrastructureReady =
    scope.infrastructure !== undefined
      ? scope.infrastructure.progress.state === 'done'
      : isTrue(cluster.status?.conditions, 'InfrastructureReady');
  const failure = scope.failure();
  const members = ours && cp ? ownedByControlPlane(cp, machines) : undefined;
  const pools = deployments.map((d) => ({ d, owned: ours ? ownedByPool(d, machines) : undefined }));
  const ready = readiness(scope);
  const world: Observation = {
    deleting: Boolean(cluster.metadata.deletionTimestamp),
    paused: isPaused(cluster),
    generation: cluster.metadata.generation ?? 0,
    infrastructureReady,
    controlPlaneInitialized: controlPlaneInitialized(scope),
    controlPlaneReady: ready.controlPlane.ready,
    desiredVersion: cp?.spec.version ?? '',
    workersReady: ready.pools.every((p) => p.ready),
    workersAtDesiredVersion: pools.every(({ d, owned }) =>
      owned ? !rolling(owned) : current(d) && (d.status?.updatedReplicas ?? 0) === (d.status?.replicas ?? 0),
    ),
    // Until the cluster has been Ready once, missing machines are provisioning, not scaling.
    replicasMatch:
      !isTrue(cluster.status?.conditions, 'Provisioned') ||
      (cp !== undefined &&
        (members ? counted(members) : cp.status?.replicas === cp.spec.replicas) &&
        pools.every(({ d, owned }) => (owned ? counted(owned) : d.status?.replicas === d.spec.replicas))),
    childrenGone: {
      workers: deployments.length === 0 && !machines.some((m) => m.spec.role === 'Worker'),
      controlPlane: cp === undefined && !machines.some((m) => m.spec.role === 'ControlPlane'),
      infrastructure: scope.infrastructureDeleted,
    },
  };
  const version = controlPlaneVersion(cp, members);
  if (version) world.controlPlaneVersion = version;
  if (failure) world.failure = { ...failure, generation: cluster.metadata.generation ?? 0 };
  return world;
}

/**
 * The oldest version a control-plane machine runs, counting one being deleted (it serves until it is gone),
 * so the upgrade lasts until the last old member left. The ControlPlane's status where it has no Machines.
 */
function controlPlaneVersion(cp: ControlPlane | undefined, members: Owned | undefined): string | undefined {
  if (members && members.machines.length > 0) return oldestVersion(members.machines);
  return cp?.status?.version;
}
