// A managed control plane (EKS): the provider runs it, so there are no Machines. The reconciler asks
// the provider to create, upgrade (one minor version at a time) or delete it and reports what the
// provider sees, in the same status fields a machine-based control plane fills.
import type { ControlPlane, ControlPlaneStatus } from '../../api/v1alpha1/index.js';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_NAME_LABEL } from '../../api/v1alpha1/labels.js';
import type { ManagedControlPlaneStatus } from '../../provider/contract.js';
import { conditionOf, conditionOfProgress, setCondition, summarise } from '../common/conditions.js';

/** How often a settled managed control plane is looked at again (drift repair); each look costs cloud API calls. */
export const MANAGED_RESYNC_MS = 10 * 60_000;

const minor = (version: string): string => /^v?(\d+\.\d+)/.exec(version)?.[1] ?? version;

/**
 * The version to report: a managed service picks the patch release itself (EKS reports `1.36`), so
 * once the minor versions agree the ControlPlane reports `spec.version`, the version it was asked
 * for; before that, the service's own minor version (`v1.35`).
 */
export function reportedVersion(cp: ControlPlane, served: string | undefined): string | undefined {
  if (!served) return undefined;
  return minor(served) === minor(cp.spec.version) ? cp.spec.version : `v${minor(served)}`;
}

/** The ControlPlane's status from one report of its provider: pure. */
export function managedControlPlaneStatus(
  cp: ControlPlane,
  clusterName: string,
  report: ManagedControlPlaneStatus,
): ControlPlaneStatus {
  const gen = cp.metadata.generation;
  const p = report.progress;
  const initialized =
    cp.status?.initialized === true || (p.state === 'done' && report.endpoint !== undefined);
  const version = reportedVersion(cp, report.version) ?? cp.status?.version;
  const upToDate = version === cp.spec.version;
  // The service keeps its API up while it upgrades: all of it counts as ready once it has served.
  const ready = initialized && p.state !== 'failed' ? cp.spec.replicas : 0;

  let conditions = cp.status?.conditions;
  conditions = setCondition(
    conditions,
    conditionOf('Available', initialized, 'Initialized', {
      reason: 'WaitingForManagedControlPlane',
      message: p.state === 'done' ? 'the control plane has no endpoint yet' : progressMessage(p),
    }),
    gen,
  );
  conditions = setCondition(
    conditions,
    conditionOfProgress('ManagedControlPlaneReady', p, 'Active', upToDate ? 'Provisioning' : 'Upgrading'),
    gen,
  );
  conditions = setCondition(
    conditions,
    summarise(conditions, ['Available', 'ManagedControlPlaneReady']),
    gen,
  );
  return {
    replicas: cp.spec.replicas,
    readyReplicas: ready,
    updatedReplicas: upToDate ? cp.spec.replicas : 0,
    selector: `${CLUSTER_NAME_LABEL}=${clusterName},${CONTROL_PLANE_NAME_LABEL}=${cp.metadata.name}`,
    initialized,
    conditions,
    observedGeneration: gen ?? 0,
    ...(version ? { version } : {}),
  };
}

function progressMessage(p: ManagedControlPlaneStatus['progress']): string {
  return p.state === 'inProgress' ? p.message : p.state === 'failed' ? `${p.reason}: ${p.message}` : '';
}
