// The replica counts and conditions a ControlPlane and a MachineDeployment report alike: pure.

import type { Machine } from '../../api/v1alpha1/index.js';
import type { Condition } from '../../api/v1alpha1/meta.js';
import { conditionOf, notStalled, setCondition } from './conditions.js';
import { isMachineReady } from './queries.js';
import type { RolloutPlan } from './rollout.js';

export interface ReplicaCounts {
  replicas: number;
  readyReplicas: number;
  updatedReplicas: number;
}

export function countReplicas(machines: Machine[], version: string, template: string): ReplicaCounts {
  return {
    replicas: machines.length,
    readyReplicas: machines.filter((m) => isMachineReady(m) && !m.metadata.deletionTimestamp).length,
    updatedReplicas: machines.filter(
      (m) =>
        !m.metadata.deletionTimestamp &&
        m.spec.version === version &&
        m.spec.machineTemplateRef.name === template,
    ).length,
  };
}

/** MachinesReady, MachinesUpToDate and the Ready summary of a set of machines that should be `desired`. */
export function machineConditions(
  existing: Condition[] | undefined,
  counts: ReplicaCounts,
  desired: number,
  plan: RolloutPlan | undefined,
  generation: number | undefined,
): Condition[] {
  let conditions = notStalled(existing);
  const ready = counts.readyReplicas === desired && counts.replicas === desired;
  conditions = setCondition(
    conditions,
    conditionOf('MachinesReady', ready, 'AllReady', {
      reason:
        counts.replicas < desired
          ? 'ScalingUp'
          : counts.replicas > desired
            ? 'ScalingDown'
            : 'WaitingForMachines',
      message: `${counts.readyReplicas} of ${desired} machines ready${plan?.waiting ? `; ${plan.waiting}` : ''}`,
    }),
    generation,
  );
  const upToDate = counts.updatedReplicas === desired && counts.replicas === desired;
  conditions = setCondition(
    conditions,
    conditionOf('MachinesUpToDate', upToDate, 'UpToDate', {
      reason: 'RollingUpdate',
      message: `${counts.updatedReplicas} of ${desired} machines at the desired version and template`,
    }),
    generation,
  );
  return conditions;
}
