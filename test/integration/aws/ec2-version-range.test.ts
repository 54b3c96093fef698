// A Kubernetes version the aws-ec2 provider cannot bootstrap (its kubeadm configuration is v1beta4,
// which kubeadm reads from v1.31 on) is said at once: the ControlPlane and the MachineDeployment of the
// template, applied at the seed quickstart's v1.26.3, are Stalled with the range and the fix within
// seconds, and no Machine is made. The API server cannot refuse it: the version and the provider are
// on different objects.
import { describe, expect, it } from 'vitest';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, getObject, listObjects, waitFor } from '../../support/operator.js';
import { applyEc2Cluster, operatorProviderDeps, useAwsOperator } from './operator-setup.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-versions');
const NAME = 'old';

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

describe('an aws-ec2 cluster at a version kubeadm v1beta4 cannot bootstrap', () => {
  useAwsOperator(kc, namespace, async (counter) => new AwsEc2Provider(operatorProviderDeps(kc, counter)));

  it('is Stalled at once with the supported range, and gets no machine', async () => {
    await applyEc2Cluster(namespace(), NAME, { version: 'v1.26.3', controlPlanes: 1, workers: 1 });
    const appliedAt = Date.now();
    for (const [plural, name] of [
      ['controlplanes', `${NAME}-control-plane`],
      ['machinedeployments', `${NAME}-workers`],
    ] as const) {
      const obj = await waitFor(
        `the ${plural} to be Stalled`,
        async () => {
          const o = await getObject(kc, plural, namespace(), name);
          return condition(o, 'Stalled')?.status === 'True' ? o : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 250 },
      );
      const stalled = condition(obj, 'Stalled');
      expect(stalled.reason).toBe('UnsupportedVersion');
      expect(stalled.message).toContain('spec.version v1.26.3 is older than the aws-ec2 provider supports');
      expect(stalled.message).toContain('v1.31.0 and newer');
      expect(stalled.message).toContain('create it again with spec.version v1.31.0 or newer');
      expect(condition(obj, 'Ready')).toMatchObject({ status: 'False', reason: 'UnsupportedVersion' });
    }
    expect(Date.now() - appliedAt).toBeLessThan(15_000);
    expect(await listObjects(kc, 'machines', namespace())).toEqual([]);
    await deleteClusterAndWait(kc, namespace(), NAME, 180_000);
  }, 240_000);
});
