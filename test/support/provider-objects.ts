// Cluster, MachineTemplate and Machine objects and the contexts a provider is called with, for the
// tests that drive a provider directly (no controllers). The objects are made through the API's zod
// schemas, so defaults are applied as the API server would apply them.
import { pino } from 'pino';
import {
  type Cluster,
  cluster as clusterSchema,
  type Machine,
  type MachineTemplate,
  machine as machineSchema,
  machineTemplate as machineTemplateSchema,
} from '../../src/api/v1alpha1/index.js';
import type { ClusterCertificates, ClusterContext, MachineContext } from '../../src/provider/contract.js';

/** The providers' log in these tests: silent unless LOG_LEVEL says otherwise. */
export const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });

/** A Cluster whose spec.infrastructure is `infrastructure` (one provider's settings). */
export function clusterObject(
  metadata: { namespace: string; name: string; uid: string },
  infrastructure: Record<string, unknown>,
): Cluster {
  return clusterSchema.parse({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata,
    spec: { infrastructure },
  });
}

/** A MachineTemplate whose machines get `machineSpec` (one provider's settings). */
export function machineTemplateObject(
  namespace: string,
  name: string,
  machineSpec: Record<string, unknown>,
): MachineTemplate {
  return machineTemplateSchema.parse({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'MachineTemplate',
    metadata: { name, namespace },
    spec: { template: { spec: machineSpec } },
  });
}

/** A Machine of `cluster`, in its namespace and labelled with its name, made from `template`. */
export function machineObject(
  cluster: Cluster,
  name: string,
  role: 'ControlPlane' | 'Worker',
  version: string,
  template: MachineTemplate,
  uid?: string,
): Machine {
  return machineSchema.parse({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      namespace: cluster.metadata.namespace,
      ...(uid ? { uid } : {}),
      labels: { 'clusterforge.dev/cluster-name': cluster.metadata.name as string },
    },
    spec: {
      clusterName: cluster.metadata.name,
      role,
      version,
      machineTemplateRef: { name: template.metadata.name },
    },
  });
}

export const clusterCtx = (cluster: Cluster, certificates?: ClusterCertificates): ClusterContext => ({
  cluster,
  log,
  ...(certificates ? { certificates } : {}),
});

export function machineCtx(
  cluster: Cluster,
  certificates: ClusterCertificates,
  machine: Machine,
  template: MachineTemplate,
  peers: Machine[] = [],
  endpoint?: { host: string; port: number },
): MachineContext {
  return { cluster, certificates, log, machine, template, peers, ...(endpoint ? { endpoint } : {}) };
}
