// The cache indexes the controllers look relatives up by (Cluster API's index.AddDefaultIndexes): each
// lookup of a cluster's machines or a watch mapping costs O(matches) instead of a scan of the namespace.
import type { Cluster, Machine, MachineDeployment } from '../../api/v1alpha1/index.js';
import { CONTROL_PLANE_NAME_LABEL, DEPLOYMENT_NAME_LABEL } from '../../api/v1alpha1/labels.js';
import { type IndexFunc, namespacedValue } from '../../runtime/indexer.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeObject } from '../../runtime/object-key.js';

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

const value = (obj: KubeObject, v: string | undefined): string[] =>
  v ? [namespacedValue(obj.metadata?.namespace, v)] : [];

/** The index functions of each kind, by index name. */
export const MACHINE_INDEXES: Record<string, IndexFunc<Machine & KubeObject>> = {
  [BY_CLUSTER]: (m) => value(m, m.spec?.clusterName),
  [BY_CONTROL_PLANE]: (m) =>
    m.spec?.role === 'ControlPlane' ? value(m, m.metadata?.labels?.[CONTROL_PLANE_NAME_LABEL]) : [],
  [BY_DEPLOYMENT]: (m) =>
    m.spec?.role === 'Worker' ? value(m, m.metadata?.labels?.[DEPLOYMENT_NAME_LABEL]) : [],
  [BY_TEMPLATE]: (m) => value(m, m.spec?.machineTemplateRef?.name),
};

export const DEPLOYMENT_INDEXES: Record<string, IndexFunc<MachineDeployment & KubeObject>> = {
  [BY_CLUSTER]: (d) => value(d, d.spec?.clusterName),
};

export const CLUSTER_INDEXES: Record<string, IndexFunc<Cluster & KubeObject>> = {
  [BY_CONTROL_PLANE_REF]: (c) => value(c, c.spec?.controlPlaneRef?.name),
};

/** Adds each index unless a controller registered on the same shared informer did already. */
export function ensureIndexes<T extends KubeObject>(
  informer: Informer<T>,
  indexes: Record<string, IndexFunc<T>>,
): void {
  for (const [name, fn] of Object.entries(indexes)) if (!informer.hasIndex(name)) informer.addIndex(name, fn);
}
