// ControlPlane: self-managed machines (local, aws-ec2, inmemory) or a managed service (aws-eks).
import { z } from 'zod';
import { healthCheck } from './health-check.js';
import {
  kindWithStatus,
  kubernetesVersion,
  localObjectReference,
  machineCounts,
  nodeDrainTimeout,
  reconciledStatus,
  replicaCount,
  versionTransitionRules,
} from './meta.js';

export const controlPlaneSpec = z
  .object({
    version: kubernetesVersion.meta({ 'x-kubernetes-validations': versionTransitionRules }),
    replicas: replicaCount
      .default(1)
      .meta({ description: 'Control-plane machines; odd (1, 3, 5, 7) for a self-managed control plane.' }),
    machineTemplateRef: localObjectReference.optional().meta({
      description:
        'The MachineTemplate of the control-plane machines. Set for a self-managed control plane; absent for a managed one (EKS).',
    }),
    rolloutStrategy: z
      .object({
        maxSurge: z
          .number()
          .int()
          .min(0)
          .max(1)
          .default(1)
          .meta({ description: 'Machines created above replicas during a rollout (0 or 1).' }),
      })
      .default({ maxSurge: 1 })
      .meta({ description: 'How control-plane machines are replaced on upgrade.' }),
    nodeDrainTimeout,
    healthCheck,
  })
  .meta({
    description: 'The desired state of the control plane.',
    'x-kubernetes-validations': [
      {
        rule: '!has(self.machineTemplateRef) || (self.replicas % 2 == 1 && self.replicas <= 7)',
        message: 'a self-managed control plane has an odd number of replicas: 1, 3, 5 or 7',
        fieldPath: '.replicas',
      },
      {
        rule: 'has(self.machineTemplateRef) == has(oldSelf.machineTemplateRef)',
        message: 'a control plane cannot switch between self-managed and managed',
        fieldPath: '.machineTemplateRef',
      },
    ],
  });
export type ControlPlaneSpec = z.infer<typeof controlPlaneSpec>;

export const controlPlaneStatus = z
  .object({
    version: z.string().max(32).optional().meta({ description: 'The oldest version any machine runs.' }),
    ...machineCounts('Control-plane machines'),
    initialized: z
      .boolean()
      .optional()
      .meta({ description: 'True once the first control-plane machine serves the API.' }),
    ...reconciledStatus,
  })
  .meta({ description: 'The observed state of the control plane.' });
export type ControlPlaneStatus = z.infer<typeof controlPlaneStatus>;

export const controlPlane = kindWithStatus('ControlPlane', controlPlaneSpec, controlPlaneStatus);
export type ControlPlane = z.infer<typeof controlPlane>;
