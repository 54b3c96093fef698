// healthCheck on a ControlPlane or MachineDeployment: when its Machines count as unhealthy and how many
// may be replaced at once (Cluster API's MachineHealthCheck, as a field of the owner rather than a kind).
import { z } from 'zod';
import { DURATION_PATTERN } from './meta.js';

const duration = (description: string, fallback: string) =>
  z.string().max(32).regex(new RegExp(DURATION_PATTERN)).default(fallback).meta({ description });

export const healthCheck = z
  .object({
    unhealthyNodeTimeout: duration(
      "How long a machine's Node may stay Ready=False or Ready=Unknown before the machine is replaced (a Go duration: 90s, 5m).",
      '5m',
    ),
    nodeStartupTimeout: duration(
      'How long a new machine may run without a Node in the workload cluster before it is replaced.',
      '10m',
    ),
    maxUnhealthy: z.number().int().min(0).max(1000).default(1).meta({
      description:
        'Unhealthy machines replaced at one time. While more than this many are unhealthy none is replaced: a network split or a wider outage must not wipe the cluster. Control-plane machines go one at a time whatever it says.',
    }),
  })
  .optional()
  .meta({
    description:
      'Replace machines whose Node is not Ready for unhealthyNodeTimeout, that never got a Node within nodeStartupTimeout, or whose provider reports them failed (for example InstanceTerminated). Unset: no health checks.',
  });
export type HealthCheck = NonNullable<z.infer<typeof healthCheck>>;
