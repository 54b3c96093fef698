// The aws-ec2 provider under the real controllers: the cluster template applied with kubectl to the
// test API server, the operator running in this process, AWS answered by the emulator. The cluster
// comes up Ready with its kubeconfig published for the load balancer, workers scale down, and the
// deletion leaves nothing tagged for the cluster. The image is looked up by version, by name.
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { defaultProviders } from '../../../src/operator/run.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { waitConverged } from '../../support/converge.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, listObjects, waitFor } from '../../support/operator.js';
import { publishedKubeconfig } from '../../support/workload.js';
import { awsCluster, capaImage, clusterCtx, ownedInventory, uniqueNamespace } from './fixtures.js';
import { applyEc2Cluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';
import { workloadStandIn } from './workload-stand-in.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-op');
const NAME = 'web';
const VERSION = 'v1.37.2';

describe.sequential('an aws-ec2 cluster through the operator', () => {
  const { calls, figures } = useAwsOperator(
    kc,
    namespace,
    async (counter) =>
      new AwsEc2Provider({
        ...operatorProviderDeps(kc, counter),
        ...workloadStandIn(kc),
        images: { owners: [await capaImage(VERSION)] },
      }),
  );
  const tagKey = () => clusterTagKey({ namespace: namespace(), name: NAME });

  it('the operator’s default providers include aws-ec2', () => {
    expect(defaultProviders().map((p) => p.name)).toEqual(['local', 'aws-ec2', 'aws-eks', 'inmemory']);
  });

  it('the default providers’ AWS calls are counted in clusterforge_aws_api_calls_total', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const providers = defaultProviders(undefined, metrics);
    const ec2 = providers.find((p) => p.name === 'aws-ec2') as AwsEc2Provider;
    // Deleting a cluster that never existed: lookups by tag only.
    const progress = await ec2.deleteInfrastructure(
      clusterCtx(awsCluster(uniqueNamespace('ec2-metrics'), 'never', {})),
    );
    expect(progress).toEqual({ state: 'done' });
    ec2.destroy();
    const text = (await metrics.text()).body;
    const counted = (operation: string) =>
      Number(
        new RegExp(
          `^clusterforge_aws_api_calls_total\\{service="ec2",operation="${operation}"\\} (\\d+)$`,
          'm',
        ).exec(text)?.[1] ?? 0,
      );
    expect(counted('DescribeInstances')).toBeGreaterThan(0);
    expect(counted('DescribeVpcs')).toBeGreaterThan(0);
  });

  it('comes up Ready from the template, with its kubeconfig for the load balancer', async () => {
    calls.reset();
    await applyEc2Cluster(namespace(), NAME, { version: VERSION, controlPlanes: 1, workers: 2 });
    const cluster = await waitConverged(kc, namespace(), NAME, 120_000);
    figures.push(calls.format('apply to Ready (1 control-plane machine, 2 workers, 2 zones)'));
    const host = cluster.status.controlPlaneEndpoint.host as string;
    expect(host).toMatch(/\.elb\.amazonaws\.com$/);
    const kubeconfig = parse(await publishedKubeconfig(kc, namespace(), NAME));
    expect(kubeconfig.clusters[0].cluster.server).toBe(`https://${host}:6443`);
    const machines = await listObjects(kc, 'machines', namespace());
    expect(machines).toHaveLength(3);
    for (const m of machines) {
      expect(m.spec.providerID).toMatch(/^aws:\/\/\/us-east-1[ab]\/i-[0-9a-f]+$/);
      expect(m.status.phase).toBe('Running');
    }
    expect((await ownedInventory(tagKey())).instance).toHaveLength(3);
  }, 180_000);

  it('scales the workers down to one, terminating one instance', async () => {
    expect(
      (await kubectl(['scale', '-n', namespace(), `machinedeployment/${NAME}-workers`, '--replicas=1']))
        .stderr,
    ).toBe('');
    await waitFor(
      'two instances left',
      async () => ((await ownedInventory(tagKey())).instance.length === 2 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    await waitConverged(kc, namespace(), NAME, 60_000);
    expect(await listObjects(kc, 'machines', namespace())).toHaveLength(2);
  }, 180_000);

  it('deletes with nothing left tagged for the cluster', async () => {
    calls.reset();
    await deleteClusterAndWait(kc, namespace(), NAME);
    figures.push(calls.format('delete to gone (1 control-plane machine, 1 worker)'));
    expect(Object.values(await ownedInventory(tagKey())).flat()).toEqual([]);
  }, 180_000);
});
