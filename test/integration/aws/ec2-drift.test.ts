// Drift repair on an idle Ready aws-ec2 cluster, through the real controllers: an instance
// terminated behind the operator's back is noticed through the cluster's shared instance view (one
// tag-filtered DescribeInstances for all its machines), its Machine reports InstanceTerminated, and
// deleting that Machine gets the MachineDeployment a new one on a new instance.
//
// The provider runs with a short instance-view period (2 s instead of the default minutes) so the
// test needs no long wait; the default bound is in docs/providers/aws.md and measured by the bench.
// The waits are generous and nothing is timed.
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { waitConverged } from '../../support/converge.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, waitFor } from '../../support/operator.js';
import { capaImage, ownedInventory, testClients } from './fixtures.js';
import { applyEc2Cluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';
import { workloadStandIn } from './workload-stand-in.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-drift');
const NAME = 'drift';
const VERSION = 'v1.37.2';

/** A Machine as the API returns it. */
type AnyMachine = any;

describe.sequential('drift on an idle aws-ec2 cluster', () => {
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
  const tagKey = () => clusterTagKey({ namespace: namespace(), name: NAME });
  const workers = async (): Promise<AnyMachine[]> =>
    (await listObjects(kc, 'machines', namespace())).filter((m: AnyMachine) => m.spec.role === 'Worker');

  beforeAll(async () => {
    await applyEc2Cluster(namespace(), NAME, { version: VERSION, controlPlanes: 1, workers: 2 });
    await waitConverged(kc, namespace(), NAME, 120_000);
  }, 180_000);

  // Runs before useAwsOperator's afterAll: the operator must still be there to delete the cluster.
  afterAll(async () => {
    await kubectl(['delete', '-n', namespace(), `cluster.clusterforge.dev/${NAME}`, '--wait=false']).catch(
      () => {},
    );
    await waitFor(
      'the Cluster to be gone',
      async () => ((await getObject(kc, 'clusters', namespace(), NAME)) ? undefined : true),
      { timeoutMs: 120_000 },
    ).catch(() => {});
  }, 180_000);

  it('an instance terminated behind the operator’s back fails its Machine with InstanceTerminated', async () => {
    const [victim] = await workers();
    const instanceId = (victim.spec.providerID as string).split('/').at(-1) as string;
    const { ec2, elbv2 } = testClients();
    try {
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    } finally {
      ec2.destroy();
      elbv2.destroy();
    }
    calls.reset();
    const failedMachine = await waitFor(
      `Machine ${victim.metadata.name} to report its instance gone`,
      async () => {
        const m = await getObject(kc, 'machines', namespace(), victim.metadata.name);
        return m?.status?.failureReason === 'InstanceTerminated' ? m : undefined;
      },
      { timeoutMs: 120_000 },
    );
    expect(failedMachine.status.phase).toBe('Failed');
    expect(failedMachine.status.failureMessage).toContain(instanceId);
    expect(failedMachine.status.conditions.find((c: { type: string }) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'InstanceTerminated',
    });
    // Reported, not replaced silently under the same Machine.
    expect(calls.count('RunInstances')).toBe(0);
    // The other machines keep running.
    const others = (await listObjects(kc, 'machines', namespace())).filter(
      (m: AnyMachine) => m.metadata.name !== victim.metadata.name,
    );
    expect(others.map((m: AnyMachine) => m.status.phase)).toEqual(['Running', 'Running']);
  }, 180_000);

  it('deleting the failed Machine gets a new one from the MachineDeployment, on a new instance', async () => {
    const failed = (await workers()).find(
      (m: AnyMachine) => m.status?.failureReason === 'InstanceTerminated',
    );
    expect(failed).toBeDefined();
    expect(
      (await kubectl(['delete', '-n', namespace(), `machine.clusterforge.dev/${failed.metadata.name}`]))
        .stderr,
    ).toBe('');
    await waitConverged(kc, namespace(), NAME, 120_000);
    const now = await workers();
    expect(now).toHaveLength(2);
    expect(now.map((m: AnyMachine) => m.metadata.name)).not.toContain(failed.metadata.name);
    for (const m of now) {
      expect(m.status.phase).toBe('Running');
      expect(m.spec.providerID).not.toBe(failed.spec.providerID);
    }
    expect((await ownedInventory(tagKey())).instance).toHaveLength(3);
  }, 180_000);
});
