// MachineDeployment: a pool of worker machines (on EKS, a managed node group).
import { z } from 'zod';
import { healthCheck } from './health-check.js';
import {
  DNS_LABEL,
  kindWithStatus,
  kubernetesVersion,
  localObjectReference,
  MAX_CLUSTER_NAME,
  machineCounts,
  nodeDrainTimeout,
  reconciledStatus,
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
    nodeDrainTimeout,
    healthCheck,
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
export type MachineDeploymentSpec = z.infer<typeof machineDeploymentSpec>;

export const machineDeploymentStatus = z
  .object({
    phase: z
      .enum(['ScalingUp', 'ScalingDown', 'Running', 'Upgrading', 'Deleting', 'Failed'])
      .optional()
      .meta({ description: 'A one-word summary for people and printer columns.' }),
    ...machineCounts('Machines'),
    ...reconciledStatus,
  })
  .meta({ description: 'The observed state of the worker pool.' });
export type MachineDeploymentStatus = z.infer<typeof machineDeploymentStatus>;

export const machineDeployment = kindWithStatus(
  'MachineDeployment',
  machineDeploymentSpec,
  machineDeploymentStatus,
);
export type MachineDeployment = z.infer<typeof machineDeployment>;
