// Deterministic crash points, for tests only: CLUSTERFORGE_CRASH_AT=<point>[@<n>] makes the operator
// kill itself (SIGKILL, no cleanup, no 'exit' hooks) the n-th time (default the first) it passes
// <point>. Each point sits right after a side effect and before whatever records its outcome, where
// a crash is the hardest to recover from. Unset, crashPoint is a function that does nothing.
// docs/testing.md lists the points; the crash walk (test/integration/crash/) goes through them.
import { writeSync } from 'node:fs';

export const CRASH_AT_ENV = 'CLUSTERFORGE_CRASH_AT';

/** Which lifecycle reaches a point: the local provider's, the aws-ec2 provider's, or every one. */
export type CrashScope = 'local' | 'aws-ec2' | 'any';

interface PointInfo {
  scope: CrashScope;
  /** The side effect that has just happened when the process dies. */
  after: string;
}

const spawn = (what: string): PointInfo => ({
  scope: 'local',
  after: `${what} was spawned; its pid is not recorded yet`,
});
const aws = (what: string): PointInfo => ({
  scope: 'aws-ec2',
  after: `AWS answered ${what}; the answer is not used yet`,
});
const kube = (what: string): PointInfo => ({ scope: 'any', after: what });

/** Every crash point, by name. */
export const CRASH_POINTS = {
  'spawn:etcd': spawn("a machine's etcd"),
  'spawn:kube-apiserver': spawn("a machine's kube-apiserver"),
  'spawn:kube-controller-manager': spawn("a machine's kube-controller-manager"),
  'spawn:kube-scheduler': spawn("a machine's kube-scheduler"),
  'spawn:heartbeat': spawn("a simulated worker's heart-beat process"),
  'spawn:kubelet-node': spawn("a kubelet worker's node-init.sh"),
  'spawn:load-balancer': spawn("the cluster's load balancer"),
  'kube-create:Machine': kube('a Machine was created; its owner has not written its status'),
  'kube-create:Secret': kube('a Secret (certificates, kubeconfig) was created'),
  'status:Cluster': kube("a Cluster's status was written"),
  'status:ControlPlane': kube("a ControlPlane's status was written"),
  'status:MachineDeployment': kube("a MachineDeployment's status was written"),
  'status:Machine': kube("a Machine's status was written"),
  'workload-create:bootstrap-token': {
    scope: 'aws-ec2',
    after:
      "a joining machine's bootstrap token Secret was made in the workload cluster; its instance is not launched yet",
  },
  'aws:CreateVpc': aws('CreateVpc'),
  'aws:CreateSubnet': aws('CreateSubnet'),
  'aws:CreateInternetGateway': aws('CreateInternetGateway'),
  'aws:AttachInternetGateway': aws('AttachInternetGateway'),
  'aws:AllocateAddress': aws('AllocateAddress'),
  'aws:CreateNatGateway': aws('CreateNatGateway'),
  'aws:CreateRouteTable': aws('CreateRouteTable'),
  'aws:CreateRoute': aws('CreateRoute'),
  'aws:AssociateRouteTable': aws('AssociateRouteTable'),
  'aws:CreateSecurityGroup': aws('CreateSecurityGroup'),
  'aws:AuthorizeSecurityGroupIngress': aws('AuthorizeSecurityGroupIngress'),
  'aws:CreateLoadBalancer': aws('CreateLoadBalancer'),
  'aws:CreateTargetGroup': aws('CreateTargetGroup'),
  'aws:CreateListener': aws('CreateListener'),
  'aws:RegisterTargets': aws('RegisterTargets'),
  'aws:RunInstances': aws('RunInstances'),
  'aws:TerminateInstances': aws('TerminateInstances'),
} as const satisfies Record<string, PointInfo>;

export type CrashPoint = keyof typeof CRASH_POINTS;

export function isCrashPoint(name: string): name is CrashPoint {
  return Object.hasOwn(CRASH_POINTS, name);
}

/** The points a lifecycle of `provider` can reach. */
export function crashPointsOf(provider: Exclude<CrashScope, 'any'>): CrashPoint[] {
  return (Object.keys(CRASH_POINTS) as CrashPoint[]).filter((p) => {
    const scope = CRASH_POINTS[p].scope as CrashScope;
    return scope === provider || scope === 'any';
  });
}

export interface CrashSwitch {
  point: CrashPoint;
  /** Dies on this pass (1 = the first). */
  nth: number;
}

/** Reads `<point>[@<n>]`; throws on a name the table lacks, so that a typo never walks nothing. */
export function parseCrashSwitch(value: string | undefined): CrashSwitch | undefined {
  if (!value) return undefined;
  const match = /^([^@]+)(?:@([1-9][0-9]*))?$/.exec(value.trim());
  const point = match?.[1] ?? '';
  if (!isCrashPoint(point)) {
    throw new Error(
      `${CRASH_AT_ENV}=${value}: no such crash point; known: ${Object.keys(CRASH_POINTS).join(', ')}`,
    );
  }
  return { point, nth: Number(match?.[2] ?? 1) };
}

function armed(sw: CrashSwitch): (point: string) => void {
  let passes = 0;
  return (point) => {
    if (point !== sw.point || ++passes < sw.nth) return;
    // Said synchronously on stderr so that the test knows which death this was; then no JavaScript runs.
    writeSync(2, `clusterforge: crash point ${point}@${passes} reached (${CRASH_AT_ENV}); killing myself\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}

const ARMED = parseCrashSwitch(process.env[CRASH_AT_ENV]);

/** Whether a crash point is armed in this process (call sites that compute a name check it first). */
export const crashArmed = ARMED !== undefined;

/** Dies here when this is the armed point's n-th pass; does nothing otherwise (or when unarmed). */
export const crashPoint: (point: CrashPoint) => void = ARMED ? armed(ARMED) : () => {};

/** crashPoint for a name made at run time (`aws:${operation}`): names outside the table are passed by. */
export function crashPointNamed(name: string): void {
  if (crashArmed && isCrashPoint(name)) crashPoint(name);
}
