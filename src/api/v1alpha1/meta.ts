// Shapes shared by every kind of the clusterforge.dev/v1alpha1 API.
import { z } from 'zod';
import { API_VERSION, DNS_LABEL, DNS_SUBDOMAIN, GROUP, MAX_CLUSTER_NAME, VERSION } from './group.js';

export { API_VERSION, DNS_LABEL, DNS_SUBDOMAIN, GROUP, MAX_CLUSTER_NAME, VERSION };

/** A Kubernetes release as `v1.MINOR.PATCH`. */
const KUBERNETES_VERSION = '^v1\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)$';

export const kubernetesVersion = z
  .string()
  .max(32)
  .regex(new RegExp(KUBERNETES_VERSION))
  .meta({ description: 'A Kubernetes release, written vMAJOR.MINOR.PATCH (for example v1.37.2).' });

/**
 * The version rules a schema alone cannot say, as a CEL transition rule on a version field:
 * it may not go down, and may go up by at most one minor release at a time (the skew policy).
 */
export const versionTransitionRules = [
  {
    rule: [
      // A version that is not one is refused by its pattern; the rule then says nothing (no index errors).
      `!self.matches(r'${KUBERNETES_VERSION}') || !oldSelf.matches(r'${KUBERNETES_VERSION}')`,
      '|| self == oldSelf',
      "|| (int(self.substring(1).split('.')[1]) == int(oldSelf.substring(1).split('.')[1])",
      "&& int(self.substring(1).split('.')[2]) >= int(oldSelf.substring(1).split('.')[2]))",
      "|| int(self.substring(1).split('.')[1]) == int(oldSelf.substring(1).split('.')[1]) + 1",
    ].join(' '),
    message: 'may not go down, nor up by more than one minor version at a time',
    reason: 'FieldValueForbidden',
  },
];

export const localObjectReference = z
  .object({
    name: z
      .string()
      .min(1)
      .max(253)
      .regex(new RegExp(DNS_SUBDOMAIN))
      .meta({ description: 'Name of the referenced object, in the same namespace.' }),
  })
  .meta({ description: 'A reference to an object in the same namespace.' });

/** A Go-style duration as Cluster API writes it: `90s`, `5m`, `1h30m`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$';

/** How long a Machine's Node may take to drain before its deletion goes on without it; unset: for ever. */
export const nodeDrainTimeout = z.string().max(32).regex(new RegExp(DURATION_PATTERN)).optional().meta({
  description:
    "How long draining a machine's Node may take before the machine is deleted anyway (for example 5m or 1h30m); unset: wait for ever, as Cluster API. A ControlPlane or MachineDeployment copies it to its Machines.",
});

/** Replica counts are never negative; the bound keeps CEL cost estimates small. */
export const replicaCount = z.number().int().min(0).max(1000);

/**
 * The status fields of a kind that owns machines (ControlPlane, MachineDeployment): what its printer
 * columns show and its scale subresource reads. `machines` names them in the descriptions.
 */
export const machineCounts = (machines: string) => ({
  replicas: replicaCount.optional().meta({ description: `${machines} that exist.` }),
  readyReplicas: replicaCount.optional().meta({ description: `${machines} that are ready.` }),
  updatedReplicas: replicaCount
    .optional()
    .meta({ description: `${machines} at the desired version and template.` }),
  selector: z
    .string()
    .max(1024)
    .optional()
    .meta({ description: 'The label selector of the machines, for the scale subresource.' }),
});

export const condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .meta({ description: 'Type of the condition, in CamelCase (Ready, InfrastructureReady, ...).' }),
    status: z.enum(['True', 'False', 'Unknown']).meta({ description: 'True, False or Unknown.' }),
    reason: z
      .string()
      .max(1024)
      .optional()
      .meta({ description: 'A CamelCase word saying why the condition last changed.' }),
    message: z
      .string()
      .max(32768)
      .optional()
      .meta({ description: 'A human-readable sentence about the last transition.' }),
    lastTransitionTime: z
      .string()
      .meta({ description: 'When the condition last changed status (RFC 3339).', format: 'date-time' }),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'The metadata.generation the condition was computed from.' }),
  })
  .meta({ description: 'A metav1.Condition: one aspect of the current state of the object.' });

export const conditions = z
  .array(condition)
  .max(32)
  .meta({
    description: 'The current state of the object, one entry per condition type; Ready summarises the rest.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

export const observedGeneration = z
  .number()
  .int()
  .min(0)
  .meta({ description: 'The metadata.generation that the controller last reconciled successfully.' });

export const failureReason = z
  .string()
  .max(256)
  .meta({ description: 'A machine-readable word for a terminal problem; empty when there is none.' });
export const failureMessage = z
  .string()
  .max(10240)
  .meta({ description: 'A human-readable explanation of a terminal problem; empty when there is none.' });

/** The status fields of every kind its controller reconciles: what it found, as of which generation. */
export const reconciledStatus = {
  conditions: conditions.optional(),
  observedGeneration: observedGeneration.optional(),
};

/** The status fields of a kind that can fail for good (Cluster, Machine), as in Cluster API. */
export const terminalFailure = {
  failureReason: failureReason.optional(),
  failureMessage: failureMessage.optional(),
};

/** The metadata every object carries, loosely typed: the API server validates it, not us. */
export const objectMeta = z
  .object({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: z.number().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    finalizers: z.array(z.string()).optional(),
    ownerReferences: z
      .array(
        z.object({
          apiVersion: z.string(),
          kind: z.string(),
          name: z.string(),
          uid: z.string(),
          controller: z.boolean().optional(),
          blockOwnerDeletion: z.boolean().optional(),
        }),
      )
      .optional(),
  })
  .loose();

/** A whole object of a kind with a status: apiVersion and kind fixed, the status written by the operator. */
export function kindWithStatus<Kind extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: Kind,
  spec: Spec,
  status: Status,
) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
}

export type ObjectMeta = z.infer<typeof objectMeta>;
export type Condition = z.infer<typeof condition>;
