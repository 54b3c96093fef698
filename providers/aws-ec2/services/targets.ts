// A control-plane instance's membership of the API server's target group: joined (and healthy)
// before the machine counts as ready, left (and drained) before the instance is terminated.
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { done, inProgress, type Progress } from '../../../src/provider/contract.js';
import { alreadySo, unlessNotFound } from '../../aws-common/errors.js';
import { API_SERVER_PORT, type Ec2Scope } from '../scope.js';

type TargetState = 'healthy' | 'initial' | 'unhealthy' | 'unused' | 'draining' | 'unavailable' | 'absent';

function stateIn(descriptions: TargetHealthDescription[] | undefined, instanceId: string): TargetState {
  const d = descriptions?.find((t) => t.Target?.Id === instanceId);
  if (!d) return 'absent';
  if (d.TargetHealth?.Reason === 'Target.NotRegistered') return 'unused';
  return (d.TargetHealth?.State ?? 'unavailable') as TargetState;
}

async function targetState(s: Ec2Scope, targetGroupArn: string, instanceId: string): Promise<TargetState> {
  const out = await unlessNotFound(
    s.clients.elbv2.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: targetGroupArn,
        Targets: [{ Id: instanceId, Port: API_SERVER_PORT }],
      }),
    ),
  );
  return stateIn(out?.TargetHealthDescriptions, instanceId);
}

/**
 * A running control-plane instance is in the API target group and passes its health check. One
 * DescribeTargetHealth of the whole group answers for every control-plane machine of the cluster;
 * a healthy target is trusted for `periods.targetHealthTtlMs`, any other state is looked at again.
 */
export async function ensureRegistered(
  s: Ec2Scope,
  instanceId: string,
  targetGroupArn: string,
): Promise<Progress> {
  const seen = s.state.registered.get(instanceId);
  if (seen && Date.now() - seen < s.periods.targetHealthTtlMs) return done();
  const out = await unlessNotFound(
    s.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
  );
  const now = Date.now();
  for (const d of out?.TargetHealthDescriptions ?? []) {
    if (d.Target?.Id && d.TargetHealth?.State === 'healthy') s.state.registered.set(d.Target.Id, now);
  }
  const state = stateIn(out?.TargetHealthDescriptions, instanceId);
  if (state === 'healthy') return done();
  if (state === 'unused' || state === 'absent' || state === 'draining') {
    await s.clients.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: [{ Id: instanceId, Port: API_SERVER_PORT }],
      }),
    );
    s.log.info({ instance: instanceId }, 'registered with the API server target group');
    return inProgress(
      `instance ${instanceId} registered with the API load balancer; waiting for its health check`,
      5_000,
    );
  }
  return inProgress(
    `the API server on ${instanceId} does not pass the load balancer's health check yet (${state})`,
    10_000,
  );
}

/**
 * Takes the instance out of the API target group: a progress while it is still in the group or
 * draining, undefined once it is out (so the instance may be terminated).
 */
export async function leaveTargetGroup(
  s: Ec2Scope,
  targetGroupArn: string,
  id: string,
): Promise<Progress | undefined> {
  const target = await targetState(s, targetGroupArn, id);
  if (target === 'draining')
    return inProgress(`instance ${id} is draining from the API load balancer`, 5_000);
  if (target !== 'unused' && target !== 'absent') {
    // InvalidTarget: not a target (any more), e.g. the answer to an earlier deregister was lost.
    await alreadySo(
      s.clients.elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: targetGroupArn,
          Targets: [{ Id: id, Port: API_SERVER_PORT }],
        }),
      ),
      'InvalidTarget',
    );
    s.state.registered.delete(id);
    s.log.info({ instance: id }, 'deregistered from the API server target group');
    return inProgress(`instance ${id} deregistered from the API load balancer; draining`, 2_000);
  }
  return undefined;
}
