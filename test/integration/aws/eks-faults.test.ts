// The aws-eks lifecycle (network, EKS cluster, one managed node group, a scale, the delete) through
// the fault-injecting proxy: first with the first answer to every call that changes something lost
// in flight, then with seeded random faults of every kind. Checked on the emulator directly: one EKS
// cluster, one node group, one of each network resource per purpose, nothing left after the delete,
// and the Cluster never Failed.
import { DescribeNodegroupCommand, EKSClient } from '@aws-sdk/client-eks';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEksProvider } from '../../../providers/aws-eks/provider.js';
import { eksClusterName } from '../../../providers/aws-eks/services/controlplane.js';
import { AwsFaultProxy, isMutation } from '../../support/aws-fault-proxy.js';
import { waitConverged } from '../../support/converge.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { realClusterCA } from '../../support/moto-eks.js';
import { deleteClusterAndWait, waitFor } from '../../support/operator.js';
import { type PhaseWatch, watchPhases } from '../../support/phase-watch.js';
import { auditEc2, auditEks } from './fault-audit.js';
import { ownedInventory, REGION } from './fixtures.js';
import { applyEksCluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('eks-faults');
const VERSION = 'v1.32.1';
const SEED = Number(process.env.FAULT_SEED ?? 1616);

/** The creates of an aws-eks cluster coming up, and the scale: each must have lost its first answer. */
const CHANGES = ['CreateVpc', 'CreateSubnet', 'CreateCluster', 'CreateNodegroup', 'UpdateNodegroupConfig'];
const DELETES = ['DeleteNodegroup', 'DeleteCluster', 'DeleteSubnet', 'DeleteVpc'];

describe.sequential('an aws-eks cluster while AWS answers are lost, throttled and failed', () => {
  let proxy: AwsFaultProxy | undefined;
  let phases: PhaseWatch | undefined;
  const eks = new EKSClient({ region: REGION });
  const figures: string[] = [];
  // Registered first, so it runs last: after the operator has stopped.
  afterAll(async () => {
    phases?.stop();
    await proxy?.stop();
    eks.destroy();
    if (figures.length > 0) console.log(figures.join('\n\n'));
  });
  useAwsOperator(kc, namespace, async (counter) => {
    proxy = await AwsFaultProxy.start(process.env.AWS_ENDPOINT_URL as string);
    phases = watchPhases(kc, namespace());
    const ca = await realClusterCA();
    return new AwsEksProvider(operatorProviderDeps(kc, counter, proxy.onClient(ca.onClient)));
  });
  const p = () => proxy as AwsFaultProxy;

  async function lifecycle(name: string): Promise<void> {
    const tagKey = clusterTagKey({ namespace: namespace(), name });
    const eksName = eksClusterName({ namespace: namespace(), name });
    await applyEksCluster(namespace(), name, { version: VERSION, workers: 2 });
    await waitConverged(kc, namespace(), name, 150_000);
    const up = { ...(await auditEc2(tagKey)), eks: await auditEks(tagKey) };
    expect([...up.duplicates, ...up.eks.duplicates]).toEqual([]);
    expect(up.eks.counts).toEqual({ eksCluster: 1, nodegroup: 1 });
    expect(up.counts).toMatchObject({ vpc: 1, subnet: 4, instance: 0 });

    const pool = `machinedeployment/${name}-nodes`;
    expect((await kubectl(['scale', '-n', namespace(), pool, '--replicas=3'])).stderr).toBe('');
    await waitFor(
      'the node group at 3',
      async () => {
        const ng = (
          await eks.send(
            new DescribeNodegroupCommand({ clusterName: eksName, nodegroupName: `${name}-nodes` }),
          )
        ).nodegroup;
        return ng?.scalingConfig?.desiredSize === 3 ? true : undefined;
      },
      { timeoutMs: 90_000 },
    );
    await waitConverged(kc, namespace(), name, 90_000);

    await deleteClusterAndWait(kc, namespace(), name, 150_000);
    expect((await auditEks(tagKey)).counts).toEqual({ eksCluster: 0, nodegroup: 0 });
    expect(Object.entries(await ownedInventory(tagKey)).filter(([, ids]) => ids.length > 0)).toEqual([]);
    expect(phases?.failures).toEqual([]);
  }

  it('survives the loss of the first answer to every call that changes something', async () => {
    p().clear();
    p().failFirstOfEach(isMutation, 'drop');
    // Throttling and a 503 through all of the SDK's attempts, and a 500 after the emulator may have acted.
    p().fail('DescribeCluster', 'throttle', 5).fail('DescribeNodegroup', 'http503', 5);
    p().fail('CreateNodegroup', 'http500');
    await lifecycle('lost');
    expect(p().pending()).toEqual([]);
    expect(p().firstsHit()).toEqual(expect.arrayContaining([...CHANGES, ...DELETES]));
    // What a user saw while the operator backed off: conditions whose reason says why.
    expect(phases?.reasons()).toEqual(
      expect.arrayContaining(['Throttled', 'ServiceUnavailable', 'AnswerLost']),
    );
    figures.push(p().report('every call that changes something losing its first answer'));
  }, 420_000);

  it(`converges with seeded random faults of every kind (seed ${SEED}), one of each, none left`, async () => {
    p().clear();
    p().randomly({ seed: SEED, rates: { throttle: 0.12, http500: 0.03, http503: 0.03, drop: 0.05 } });
    await lifecycle('chaos');
    figures.push(p().report(`seeded random faults (seed ${SEED})`));
    const counts = p().countsByKind();
    for (const kind of ['throttle', 'http500', 'http503', 'drop'] as const)
      expect(counts[kind]).toBeGreaterThan(0);
  }, 420_000);
});
