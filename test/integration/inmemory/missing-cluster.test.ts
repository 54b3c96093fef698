// A MachineDeployment naming a Cluster that does not exist says so at once, with the fix; once no
// Cluster has come within the grace a GitOps tool needs to apply the rest, it is Stalled (kstatus:
// Failed). When the Cluster comes after all, the pool goes on and is no longer Stalled.
import { describe, expect, it } from 'vitest';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import { MISSING_CLUSTER_GRACE_MS } from '../../../src/controllers/machinedeployment/checks.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, getObject, useTestOperator, waitFor } from '../../support/operator.js';
import { applyClusterTemplate } from '../../support/templates.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('missing-cluster');
const CLUSTER = 'late';
const POOL = 'extra-pool';

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);
const pool = () => getObject(kc, 'machinedeployments', namespace(), POOL);

describe('a MachineDeployment whose Cluster does not exist', () => {
  useTestOperator(kc, namespace, () => [new InMemoryProvider()]);

  it('says so at once with the fix, is Stalled past the grace, and goes on when the Cluster comes', async () => {
    const manifest = {
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: POOL, namespace: namespace() },
      spec: {
        clusterName: CLUSTER,
        replicas: 1,
        version: 'v1.37.2',
        machineTemplateRef: { name: `${CLUSTER}-inmemory` },
      },
    };
    expect((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(manifest) })).stderr).toBe('');
    const appliedAt = Date.now();

    const waiting = await waitFor(
      'Ready=False WaitingForCluster',
      async () => {
        const ready = condition(await pool(), 'Ready');
        return ready?.reason === 'WaitingForCluster' ? ready : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(Date.now() - appliedAt).toBeLessThan(10_000);
    expect(waiting.message).toContain(
      `Cluster ${CLUSTER} does not exist in namespace ${namespace()}: create it`,
    );
    expect(waiting.message).toContain('create it again with spec.clusterName naming an existing Cluster');
    expect(condition(await pool(), 'Stalled')).toBeUndefined();

    const stalled = await waitFor(
      'Stalled=True ClusterNotFound',
      async () => {
        const s = condition(await pool(), 'Stalled');
        return s?.status === 'True' ? s : undefined;
      },
      { timeoutMs: MISSING_CLUSTER_GRACE_MS + 15_000, intervalMs: 500 },
    );
    expect(Date.now() - appliedAt).toBeGreaterThanOrEqual(MISSING_CLUSTER_GRACE_MS - 2_000);
    expect(stalled.reason).toBe('ClusterNotFound');
    expect(stalled.message).toContain('create it, or delete this MachineDeployment');

    await applyClusterTemplate('inmemory', { CLUSTER_NAME: CLUSTER, NAMESPACE: namespace() });
    await waitFor(
      'the pool to be Ready and no longer Stalled',
      async () => {
        const o = await pool();
        return condition(o, 'Ready')?.status === 'True' && !condition(o, 'Stalled') ? o : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await deleteClusterAndWait(kc, namespace(), CLUSTER);
  }, 180_000);
});
