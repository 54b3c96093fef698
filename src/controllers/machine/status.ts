// A Machine's status, computed from what the provider reported: pure.
import type { Machine, MachineStatus } from '../../api/v1alpha1/index.js';
import type { MachineStatusReport } from '../../provider/contract.js';
import { conditionOf, notReady, setCondition } from '../common/conditions.js';
import { setFailure } from '../common/failure.js';
import { hasJoined, JOINED } from '../common/queries.js';

export function statusFromReport(machine: Machine, report: MachineStatusReport): MachineStatus {
  const gen = machine.metadata.generation;
  const prev = machine.status ?? {};
  let conditions = prev.conditions;
  const p = report.progress;
  let phase: MachineStatus['phase'];
  if (p.state === 'failed') {
    phase = 'Failed';
    conditions = setCondition(
      conditions,
      { type: 'InfrastructureReady', status: 'False', reason: p.reason, message: p.message },
      gen,
    );
  } else if (p.state === 'inProgress') {
    phase = report.providerID ? 'Provisioned' : 'Provisioning';
    conditions = setCondition(
      conditions,
      {
        type: 'InfrastructureReady',
        status: 'False',
        reason: p.reason ?? 'Provisioning',
        message: p.message,
      },
      gen,
    );
  } else {
    phase = report.ready ? 'Running' : 'Provisioned';
    conditions = setCondition(
      conditions,
      { type: 'InfrastructureReady', status: 'True', reason: 'Provisioned' },
      gen,
    );
  }
  const readyMessage =
    p.state === 'failed'
      ? p.message
      : p.state === 'inProgress'
        ? p.message
        : report.ready
          ? ''
          : 'waiting for the machine to serve';
  conditions = setCondition(
    conditions,
    conditionOf('Ready', report.ready, 'Ready', {
      reason: p.state === 'failed' ? p.reason : 'NotReady',
      message: readyMessage,
    }),
    gen,
  );
  // Sticky: a machine that has been Ready once has joined; one Ready=False since then is not a new one
  // still coming up (the Cluster counts a scale as going on until its new machines are Ready).
  conditions = setCondition(
    conditions,
    conditionOf(JOINED, report.ready || hasJoined(machine), 'FirstReady', {
      reason: 'Joining',
      message: 'the machine has not been Ready yet',
    }),
    gen,
  );
  const status: MachineStatus = { ...prev, phase, conditions, observedGeneration: gen ?? 0 };
  if (report.addresses) status.addresses = report.addresses;
  if (report.nodeName) status.nodeRef = { name: report.nodeName };
  setFailure(status, p.state === 'failed' ? p : undefined);
  return status;
}

export function waitingStatus(machine: Machine, reason: string, message: string): MachineStatus {
  const conditions = notReady(machine, reason, message);
  return { ...machine.status, phase: machine.status?.phase ?? 'Pending', conditions };
}
