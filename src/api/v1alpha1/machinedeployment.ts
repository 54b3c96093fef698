// MachineDeployment: a pool of worker machines (on EKS, a managed node group).
import { z } from 'zod';
import {
  conditions,
  DNS_LABEL,
  kubernetesVersion,
  localObjectReference,
  MAX_CLUSTER_NAME,
  objectMeta,
  observedGeneration,
  replicaCount,
  versionTransitionRules,
} from './meta.js';

export const clusterNameField = z
  .string()
  .min(1)
  .max(MAX_CLUSTER_NAME)
  .regex(new RegExp(DNS_LABEL))
  .meta({
    description: 'The Cluster this object belongs to, in the same namespace; cannot change.',
    'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'clusterName is immutable' }],
  });

export const machineDeploymentSpec = z
  .object({
    clusterName: clusterNameField,
    replicas: replicaCount.default(1).meta({ description: 'How many worker machines the pool keeps.' }),
    version: kubernetesVersion.meta({ 'x-kubernetes-validations': versionTransitionRules }),
    machineTemplateRef: localObjectReference.meta({ description: 'The MachineTemplate of the workers.' }),
    strategy: z
      .object({
        maxSurge: z
          .number()
          .int()
          .min(0)
          .max(100)
          .default(1)
          .meta({ description: 'Machines created above replicas during a rollout.' }),
        maxUnavailable: z
          .number()
          .int()
          .min(0)
          .max(100)
          .default(0)
          .meta({ description: 'Machines that may be unavailable during a rollout.' }),
      })
      .default({ maxSurge: 1, maxUnavailable: 0 })
      .meta({
        description: 'How machines are replaced on a version or template change (a rolling update).',
        'x-kubernetes-validations': [
          {
            rule: 'self.maxSurge + self.maxUnavailable > 0',
            message: 'maxSurge and maxUnavailable cannot both be 0',
          },
        ],
      }),
  })
  .meta({ description: 'The desired state of the worker pool.' });

export const machineDeploymentStatus = z
  .object({
    phase: z
      .enum(['ScalingUp', 'ScalingDown', 'Running', 'Upgrading', 'Deleting', 'Failed'])
      .optional()
      .meta({ description: 'A one-word summary for people and printer columns.' }),
    replicas: replicaCount.optional().meta({ description: 'Machines that exist.' }),
    readyReplicas: replicaCount.optional().meta({ description: 'Machines that are ready.' }),
    updatedReplicas: replicaCount
      .optional()
      .meta({ description: 'Machines at the desired version and template.' }),
    selector: z
      .string()
      .max(1024)
      .optional()
      .meta({ description: 'The label selector of the machines, for the scale subresource.' }),
    conditions: conditions.optional(),
    observedGeneration: observedGeneration.optional(),
  })
  .meta({ description: 'The observed state of the worker pool.' });

export const machineDeployment = z.object({
  apiVersion: z.literal('clusterforge.dev/v1alpha1'),
  kind: z.literal('MachineDeployment'),
  metadata: objectMeta,
  spec: machineDeploymentSpec,
  status: machineDeploymentStatus.optional(),
});

export type MachineDeployment = z.infer<typeof machineDeployment>;
export type MachineDeploymentSpec = z.infer<typeof machineDeploymentSpec>;
export type MachineDeploymentStatus = z.infer<typeof machineDeploymentStatus>;
