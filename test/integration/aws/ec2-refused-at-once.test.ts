// What the API server cannot refuse for an aws-ec2 cluster, said at once by the operator as Stalled
// with the fix, before any machine is made:
// - a Kubernetes version its kubeadm configuration (v1beta4, read by kubeadm from v1.31 on) cannot
//   bootstrap, such as the seed quickstart's v1.26.3: the version and the provider are on different
//   objects;
// - workers past what the pod block holds (a /24 per node): the replica counts are on the pools.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, getObject, listObjects, waitFor } from '../../support/operator.js';
import { applyEc2Cluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-refused');

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

/** The object once Stalled, within 15 s of `since`. */
async function stalledSoon(plural: string, name: string, since: number): Promise<any> {
  const obj = await waitFor(
    `${plural}/${name} to be Stalled`,
    async () => {
      const o = await getObject(kc, plural, namespace(), name);
      return condition(o, 'Stalled')?.status === 'True' ? o : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 250 },
  );
  expect(Date.now() - since).toBeLessThan(15_000);
  expect(condition(obj, 'Ready')).toMatchObject({
    status: 'False',
    reason: condition(obj, 'Stalled').reason,
  });
  return obj;
}

describe.sequential('an aws-ec2 cluster the operator refuses at once', () => {
  useAwsOperator(kc, namespace, async (counter) => new AwsEc2Provider(operatorProviderDeps(kc, counter)));

  it('at v1.26.3: the ControlPlane and the pool are Stalled with the supported range, and no machine is made', async () => {
    const name = 'old';
    await applyEc2Cluster(namespace(), name, { version: 'v1.26.3', controlPlanes: 1, workers: 1 });
    const appliedAt = Date.now();
    for (const [plural, obj] of [
      ['controlplanes', `${name}-control-plane`],
      ['machinedeployments', `${name}-workers`],
    ] as const) {
      const stalled = condition(await stalledSoon(plural, obj, appliedAt), 'Stalled');
      expect(stalled.reason).toBe('UnsupportedVersion');
      expect(stalled.message).toContain('spec.version v1.26.3 is older than the aws-ec2 provider supports');
      expect(stalled.message).toContain('v1.31.0 and newer');
      expect(stalled.message).toContain('create it again with spec.version v1.31.0 or newer');
    }
    expect(await listObjects(kc, 'machines', namespace())).toEqual([]);
    await deleteClusterAndWait(kc, namespace(), name, 180_000);
  }, 240_000);

  it('with more nodes than its pod block holds: the pool is Stalled with the count that fits', async () => {
    const name = 'crowded';
    // A /23 holds two nodes' /24s: the control plane and one worker.
    const text = renderTemplate(await readFile('templates/aws-ec2/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: name,
      NAMESPACE: namespace(),
      AWS_AZ_COUNT: '2',
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '3',
    });
    const manifest = parseAllDocuments(text)
      .map((doc) => {
        const obj = doc.toJS();
        if (obj.kind === 'Cluster') obj.spec.clusterNetwork = { pods: { cidrBlocks: ['192.168.0.0/23'] } };
        return stringify(obj);
      })
      .join('---\n');
    expect((await kubectl(['apply', '-f', '-'], { input: manifest })).stderr).toBe('');
    const appliedAt = Date.now();
    const stalled = condition(
      await stalledSoon('machinedeployments', `${name}-workers`, appliedAt),
      'Stalled',
    );
    expect(stalled.reason).toBe('PodBlockTooSmall');
    expect(stalled.message).toContain('the cluster asks for 4 nodes (1 control-plane, 3 workers)');
    expect(stalled.message).toContain('pod block 192.168.0.0/23 holds 2');
    expect(stalled.message).toContain('set spec.replicas to 1 or fewer');
    expect((await listObjects(kc, 'machines', namespace())).filter((m) => m.spec.role === 'Worker')).toEqual(
      [],
    );
    await deleteClusterAndWait(kc, namespace(), name, 180_000);
  }, 240_000);
});
