// Remediation on aws-ec2, through the real controllers and the AWS emulator: with a healthCheck on the
// MachineDeployment, an instance terminated behind the operator's back fails its Machine with
// InstanceTerminated, and the Machine is replaced on a new instance without anyone deleting it.
//
// The emulator boots nothing, so the workload cluster's API never answers: the Node checks wait (the
// RemediationAllowed condition says so) and only the provider's report counts, which is the case here.
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { waitConverged } from '../../support/converge.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, getObject, listObjects } from '../../support/operator.js';
import { waitRemediated } from '../../support/remediation.js';
import { capaImage, testClients } from './fixtures.js';
import { applyEc2Cluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';
import { workloadStandIn } from './workload-stand-in.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-remediation');
const NAME = 'heal';
const VERSION = 'v1.37.2';

type AnyMachine = any;
const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

describe.sequential('remediation of an aws-ec2 worker whose instance was terminated', () => {
  const { calls } = useAwsOperator(
    kc,
    namespace,
    async (counter) =>
      new AwsEc2Provider({
        ...operatorProviderDeps(kc, counter),
        ...workloadStandIn(kc),
        images: { owners: [await capaImage(VERSION, '1700000100')] },
        periods: { instanceViewTtlMs: 2_000 },
      }),
  );
  const workers = async (): Promise<AnyMachine[]> =>
    (await listObjects(kc, 'machines', namespace())).filter((m: AnyMachine) => m.spec.role === 'Worker');

  beforeAll(async () => {
    await applyEc2Cluster(namespace(), NAME, { version: VERSION, controlPlanes: 1, workers: 2 });
    const patch = JSON.stringify({ spec: { healthCheck: { maxUnhealthy: 1 } } });
    const out = await kubectl([
      'patch',
      '-n',
      namespace(),
      `machinedeployment/${NAME}-workers`,
      '--type=merge',
      '-p',
      patch,
    ]);
    expect(out.stderr).toBe('');
    await waitConverged(kc, namespace(), NAME, 120_000);
  }, 180_000);

  afterAll(async () => deleteClusterAndWait(kc, namespace(), NAME), 180_000);

  it('the Machine is replaced on a new instance, and says why', async () => {
    const before = await workers();
    const [victim] = before;
    const instanceId = (victim.spec.providerID as string).split('/').at(-1) as string;
    const md = await getObject(kc, 'machinedeployments', namespace(), `${NAME}-workers`);
    expect(condition(md, 'RemediationAllowed')).toMatchObject({ status: 'True' });
    expect(condition(md, 'RemediationAllowed').message).toContain('Node checks wait');
    const { ec2, elbv2 } = testClients();
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    } finally {
      ec2.destroy();
      elbv2.destroy();
    }
    calls.reset();
    // Seen unhealthy on its way out (HealthCheckSucceeded names the provider's reason), or already gone.
    const health = await waitRemediated(kc, namespace(), victim.metadata.name, 120_000);
    if (health) expect(health).toMatchObject({ status: 'False', reason: 'InstanceTerminated' });
    await waitConverged(kc, namespace(), NAME, 120_000);
    const now = await workers();
    expect(now).toHaveLength(2);
    expect(now.map((m: AnyMachine) => m.metadata.name)).not.toContain(victim.metadata.name);
    for (const m of now) {
      expect(m.status.phase).toBe('Running');
      expect(m.spec.providerID).not.toBe(victim.spec.providerID);
    }
    expect(calls.count('RunInstances')).toBe(1);
    const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
      namespace: namespace(),
      fieldSelector: `involvedObject.name=${NAME}-workers,involvedObject.kind=MachineDeployment`,
    });
    expect(events.items.map((e) => e.reason)).toContain('MachineRemediated');
  }, 300_000);
});
