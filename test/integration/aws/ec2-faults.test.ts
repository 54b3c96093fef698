// The aws-ec2 lifecycle through a fault-injecting proxy in front of the emulator (test/support/
// aws-fault-proxy.ts): first with the answer to every create and delete the provider makes lost once
// in flight (the emulator acted, the operator saw a reset connection), with throttling and 5xx that
// outlast the SDK's own retries; then with seeded random faults of every kind. Each time, checked
// on the emulator directly: one resource of each per purpose (instances counted terminated ones
// included), nothing left after the delete, and the Cluster and its Machines never Failed.
import { afterAll, describe, expect, it } from 'vitest';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { AwsFaultProxy, isMutation } from '../../support/aws-fault-proxy.js';
import { waitConverged } from '../../support/converge.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait } from '../../support/operator.js';
import { type PhaseWatch, watchPhases } from '../../support/phase-watch.js';
import { auditEc2 } from './fault-audit.js';
import { capaImage, ownedInventory } from './fixtures.js';
import { applyEc2Cluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';
import { workloadStandIn } from './workload-stand-in.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-faults');
const VERSION = 'v1.37.2';
const SEED = Number(process.env.FAULT_SEED ?? 1616);

/** Every create of an aws-ec2 cluster coming up: each must have lost its first answer once. */
const CREATES = [
  'CreateVpc',
  'CreateSubnet',
  'CreateInternetGateway',
  'AllocateAddress',
  'CreateNatGateway',
  'CreateRouteTable',
  'CreateRoute',
  'CreateSecurityGroup',
  'CreateLoadBalancer',
  'CreateTargetGroup',
  'CreateListener',
  'RunInstances',
];
/** And every delete of its deletion. */
const DELETES = [
  'TerminateInstances',
  'DeleteLoadBalancer',
  'DeleteTargetGroup',
  'DeleteNatGateway',
  'ReleaseAddress',
  'DetachInternetGateway',
  'DeleteInternetGateway',
  'DeleteRouteTable',
  'DeleteSecurityGroup',
  'DeleteSubnet',
  'DeleteVpc',
];

describe.sequential('an aws-ec2 cluster while AWS answers are lost, throttled and failed', () => {
  let proxy: AwsFaultProxy | undefined;
  let phases: PhaseWatch | undefined;
  const figures: string[] = [];
  // Registered first, so it runs last: after the operator has stopped.
  afterAll(async () => {
    phases?.stop();
    await proxy?.stop();
    if (figures.length > 0) console.log(figures.join('\n\n'));
  });
  useAwsOperator(kc, namespace, async (counter) => {
    proxy = await AwsFaultProxy.start(process.env.AWS_ENDPOINT_URL as string);
    phases = watchPhases(kc, namespace());
    return new AwsEc2Provider({
      ...operatorProviderDeps(kc, counter, proxy.onClient()),
      ...workloadStandIn(kc),
      images: { owners: [await capaImage(VERSION)] },
    });
  });
  const tagKey = (name: string) => clusterTagKey({ namespace: namespace(), name });
  const p = () => proxy as AwsFaultProxy;

  async function lifecycle(name: string, workers: { first: number; scaled: number }): Promise<void> {
    await applyEc2Cluster(namespace(), name, { version: VERSION, controlPlanes: 1, workers: workers.first });
    await waitConverged(kc, namespace(), name, 150_000);
    const up = await auditEc2(tagKey(name));
    expect(up.duplicates).toEqual([]);
    expect(up.counts).toMatchObject({
      vpc: 1,
      subnet: 4,
      internetGateway: 1,
      loadBalancer: 1,
      targetGroup: 1,
    });
    expect(up.counts.natGateway).toBe(up.counts.elasticIP);
    expect(up.counts.instance).toBe(1 + workers.first);

    const pool = `machinedeployment/${name}-workers`;
    expect((await kubectl(['scale', '-n', namespace(), pool, `--replicas=${workers.scaled}`])).stderr).toBe(
      '',
    );
    await waitConverged(kc, namespace(), name, 150_000);
    const scaled = await auditEc2(tagKey(name));
    expect(scaled.duplicates).toEqual([]);
    // Every Machine that ever was has had exactly one instance: scaling down terminates, never relaunches.
    expect(scaled.counts.instance).toBe(1 + Math.max(workers.first, workers.scaled));

    await deleteClusterAndWait(kc, namespace(), name, 150_000);
    const after = await auditEc2(tagKey(name));
    expect(after.duplicates).toEqual([]);
    expect(Object.entries(await ownedInventory(tagKey(name))).filter(([, ids]) => ids.length > 0)).toEqual(
      [],
    );
    expect(phases?.failures).toEqual([]);
  }

  it('survives the loss of the first answer to every create and delete, and faults past the SDK’s retries', async () => {
    p().clear();
    // The first answer to every call that changes something is lost; then the worker's launch too,
    // and a create that fails with a 500 after the emulator may have acted.
    p().failFirstOfEach(isMutation, 'drop');
    p().fail('RunInstances', 'drop', 2).fail('AllocateAddress', 'http500');
    // Five answers in a row: as many as the SDK's attempts, so the reconcile sees them.
    p().fail('DescribeSecurityGroups', 'throttle', 5).fail('DescribeTargetGroups', 'http503', 5);
    p().fail('CreateTargetGroup', 'http500');
    await lifecycle('lost', { first: 1, scaled: 2 });
    expect(p().pending()).toEqual([]);
    expect(p().firstsHit()).toEqual(expect.arrayContaining([...CREATES, ...DELETES]));
    // What a user saw while the operator backed off: conditions whose reason says why.
    expect(phases?.reasons()).toEqual(
      expect.arrayContaining(['Throttled', 'ServiceUnavailable', 'AnswerLost']),
    );
    figures.push(p().report('every create and delete losing its first answer'));
  }, 420_000);

  it(`converges with seeded random faults of every kind (seed ${SEED}), one resource of each, none left`, async () => {
    p().clear();
    p().randomly({ seed: SEED, rates: { throttle: 0.12, http500: 0.03, http503: 0.03, drop: 0.05 } });
    await lifecycle('chaos', { first: 2, scaled: 1 });
    const counts = p().countsByKind();
    figures.push(p().report(`seeded random faults (seed ${SEED})`));
    for (const kind of ['throttle', 'http500', 'http503', 'drop'] as const)
      expect(counts[kind]).toBeGreaterThan(0);
  }, 420_000);
});
