// Machine: one machine, made by a ControlPlane or a MachineDeployment.
import { z } from 'zod';
import { clusterNameField } from './machinedeployment.js';
import {
  kindWithStatus,
  kubernetesVersion,
  localObjectReference,
  nodeDrainTimeout,
  reconciledStatus,
  terminalFailure,
} from './meta.js';

export const machineSpec = z
  .object({
    clusterName: clusterNameField,
    role: z.enum(['ControlPlane', 'Worker']).meta({
      description: 'Whether the machine serves the control plane or runs workloads; cannot change.',
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'role is immutable' }],
    }),
    version: kubernetesVersion.meta({
      'x-kubernetes-validations': [
        {
          rule: 'self == oldSelf',
          message: "a machine's version is immutable; machines are replaced to upgrade",
        },
      ],
    }),
    machineTemplateRef: localObjectReference.meta({
      description: 'The MachineTemplate the machine is made from; cannot change.',
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'machineTemplateRef is immutable' }],
    }),
    nodeDrainTimeout,
    providerID: z.string().max(512).optional().meta({
      description:
        "The provider's ID of the machine (aws:///zone/i-..., local://...); set once by the operator.",
    }),
  })
  .meta({
    description: 'The desired state of the machine.',
    'x-kubernetes-validations': [
      {
        rule: '!has(oldSelf.providerID) || (has(self.providerID) && self.providerID == oldSelf.providerID)',
        message: 'providerID cannot change once set',
        fieldPath: '.providerID',
      },
    ],
  });
export type MachineSpec = z.infer<typeof machineSpec>;

export const machinePhase = z
  .enum(['Pending', 'Provisioning', 'Provisioned', 'Running', 'Deleting', 'Failed'])
  .meta({ description: 'Where the machine is in its life, as in Cluster API.' });
export type MachinePhase = z.infer<typeof machinePhase>;

export const machineStatus = z
  .object({
    phase: machinePhase.optional(),
    nodeRef: z
      .object({ name: z.string().max(253).meta({ description: "The Node's name in the workload cluster." }) })
      .optional()
      .meta({ description: 'The Node of this machine in the workload cluster.' }),
    addresses: z
      .array(
        z.object({
          type: z
            .enum(['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS'])
            .meta({ description: 'The kind of address.' }),
          address: z.string().max(256).meta({ description: 'The address.' }),
        }),
      )
      .max(32)
      .optional()
      .meta({ description: "The machine's addresses as the provider reports them." }),
    ...reconciledStatus,
    ...terminalFailure,
  })
  .meta({ description: 'The observed state of the machine.' });
export type MachineStatus = z.infer<typeof machineStatus>;

export const machine = kindWithStatus('Machine', machineSpec, machineStatus);
export type Machine = z.infer<typeof machine>;
