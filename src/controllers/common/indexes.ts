// The cache indexes the controllers look relatives up by (Cluster API's index.AddDefaultIndexes): each
// lookup of a cluster's machines or a watch mapping costs O(matches) instead of a scan of the namespace.
import type { Cluster, Machine, MachineDeployment } from '../../api/v1alpha1/index.js';
import { namespacedValue } from '../../runtime/indexer.js';
import type { Informer, KubeObject } from '../../runtime/informer.js';
import { CONTROL_PLANE_NAME_LABEL, DEPLOYMENT_NAME_LABEL } from './labels.js';

/** Machines and MachineDeployments by spec.clusterName. */
export const BY_CLUSTER = 'spec.clusterName';
/** Control-plane Machines by the ControlPlane that owns them (its label). */
export const BY_CONTROL_PLANE = 'controlPlane';
/** Worker Machines by the MachineDeployment that owns them (its label). */
export const BY_DEPLOYMENT = 'machineDeployment';
/** Machines by spec.machineTemplateRef.name. */
export const BY_TEMPLATE = 'spec.machineTemplateRef.name';
/** Clusters by spec.controlPlaneRef.name. */
export const BY_CONTROL_PLANE_REF = 'spec.controlPlaneRef.name';

/** Adds the index unless a controller registered on the same shared informer did already. */
function ensureIndex<T extends KubeObject>(
  informer: Informer<T>,
  name: string,
  fn: (obj: T) => string[],
): void {
  if (!informer.hasIndex(name)) informer.addIndex(name, fn);
}

const value = (obj: KubeObject, v: string | undefined): string[] =>
  v ? [namespacedValue(obj.metadata?.namespace, v)] : [];

export function indexMachines(informer: Informer<Machine & KubeObject>): void {
  ensureIndex(informer, BY_CLUSTER, (m) => value(m, m.spec?.clusterName));
  ensureIndex(informer, BY_CONTROL_PLANE, (m) =>
    m.spec?.role === 'ControlPlane' ? value(m, m.metadata?.labels?.[CONTROL_PLANE_NAME_LABEL]) : [],
  );
  ensureIndex(informer, BY_DEPLOYMENT, (m) =>
    m.spec?.role === 'Worker' ? value(m, m.metadata?.labels?.[DEPLOYMENT_NAME_LABEL]) : [],
  );
  ensureIndex(informer, BY_TEMPLATE, (m) => value(m, m.spec?.machineTemplateRef?.name));
}

export function indexDeployments(informer: Informer<MachineDeployment & KubeObject>): void {
  ensureIndex(informer, BY_CLUSTER, (d) => value(d, d.spec?.clusterName));
}

export function indexClusters(informer: Informer<Cluster & KubeObject>): void {
  ensureIndex(informer, BY_CONTROL_PLANE_REF, (c) => value(c, c.spec?.controlPlaneRef?.name));
}
