// The clusterforge.dev/v1alpha1 API: every kind, and what its CRD shows to kubectl.
import type { z } from 'zod';
import { cluster } from './cluster.js';
import { controlPlane } from './controlplane.js';
import { machine } from './machine.js';
import { machineDeployment } from './machinedeployment.js';
import { machineTemplate } from './machinetemplate.js';
import { DNS_LABEL, MAX_CLUSTER_NAME } from './meta.js';

export * from './cluster.js';
export * from './controlplane.js';
export * from './health-check.js';
export * from './labels.js';
export * from './machine.js';
export * from './machinedeployment.js';
export * from './machinetemplate.js';
export * from './meta.js';
export * from './publish.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'boolean' | 'date';
  jsonPath: string;
  description: string;
  priority?: number;
}

export interface KindInfo {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  schema: z.ZodObject;
  printerColumns: PrinterColumn[];
  /** Rules on the whole object: the only place CEL may read metadata.name. */
  rootRules: { rule: string; message: string }[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

const nameRules = (maxLength: number, why: string) => [
  {
    rule: `self.metadata.name.size() <= ${maxLength} && self.metadata.name.matches('${DNS_LABEL}')`,
    // No fieldPath: the API server accepts none below metadata, so the message names the field.
    message: `metadata.name must be a DNS label (lower-case letters, digits, '-') of at most ${maxLength} characters: ${why}`,
  },
];

const age: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: 'Time since the object was created.',
};
const ready: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'The Ready condition.',
};

// The two kinds that own machines (ControlPlane, MachineDeployment) show and scale them alike.
const replicaColumns: PrinterColumn[] = [
  { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Machines that exist.' },
  {
    name: 'Ready',
    type: 'integer',
    jsonPath: '.status.readyReplicas',
    description: 'Machines that are ready.',
  },
  {
    name: 'Updated',
    type: 'integer',
    jsonPath: '.status.updatedReplicas',
    description: 'Machines at the desired version.',
  },
];
const replicaScale: KindInfo['scale'] = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.status.selector',
};

export const kinds: KindInfo[] = [
  {
    kind: 'Cluster',
    plural: 'clusters',
    singular: 'cluster',
    shortNames: ['cfc', 'cfcluster'],
    description:
      'A Kubernetes cluster managed by Clusterforge: its infrastructure, control plane and workers, through one provider.',
    schema: cluster,
    printerColumns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'The lifecycle phase.' },
      ready,
      { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'The running version.' },
      {
        name: 'Endpoint',
        type: 'string',
        jsonPath: '.status.controlPlaneEndpoint.host',
        description: 'The API server host.',
        priority: 1,
      },
      age,
    ],
    rootRules: nameRules(MAX_CLUSTER_NAME, 'cluster names become parts of cloud resource names'),
  },
  {
    kind: 'ControlPlane',
    plural: 'controlplanes',
    singular: 'controlplane',
    shortNames: ['cfcp'],
    description: 'The control plane of a cluster: self-managed machines or a managed service such as EKS.',
    schema: controlPlane,
    printerColumns: [
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'The desired version.' },
      ...replicaColumns,
      {
        name: 'Initialized',
        type: 'boolean',
        jsonPath: '.status.initialized',
        description: 'Whether the API is served.',
      },
      age,
    ],
    rootRules: nameRules(50, 'machine names are derived from it'),
    scale: replicaScale,
  },
  {
    kind: 'MachineTemplate',
    plural: 'machinetemplates',
    singular: 'machinetemplate',
    shortNames: ['cfmt'],
    description: 'A provider machine spec that machines are made from; immutable.',
    schema: machineTemplate,
    printerColumns: [age],
    rootRules: [],
  },
  {
    kind: 'MachineDeployment',
    plural: 'machinedeployments',
    singular: 'machinedeployment',
    shortNames: ['cfmd'],
    description: 'A pool of worker machines of one cluster (on EKS, a managed node group).',
    schema: machineDeployment,
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName', description: 'The owning cluster.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: "The pool's phase." },
      ...replicaColumns,
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'The desired version.' },
      age,
    ],
    rootRules: nameRules(50, 'node group and machine names are derived from it'),
    scale: replicaScale,
  },
  {
    kind: 'Machine',
    plural: 'machines',
    singular: 'machine',
    shortNames: ['cfm', 'cfmachine'],
    description: 'One machine of a cluster, made by its ControlPlane or a MachineDeployment.',
    schema: machine,
    printerColumns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName', description: 'The owning cluster.' },
      { name: 'Role', type: 'string', jsonPath: '.spec.role', description: 'ControlPlane or Worker.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: "The machine's phase." },
      { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'The Kubernetes version.' },
      {
        name: 'Node',
        type: 'string',
        jsonPath: '.status.nodeRef.name',
        description: 'The Node in the cluster.',
      },
      {
        name: 'ProviderID',
        type: 'string',
        jsonPath: '.spec.providerID',
        description: "The provider's ID.",
        priority: 1,
      },
      age,
    ],
    rootRules: nameRules(63, 'machine names become node and cloud resource names'),
  },
];
