// Deleting a paused cluster deletes nothing (as in Cluster API) and says so with the fix, in the Cluster's
// Deleting condition and a Warning Event; running the command it gives lets the deletion finish.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, startTestOperator, waitFor } from '../../support/operator.js';
import { applyClusterTemplate } from '../../support/templates.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const namespace = useTestNamespace('inmemory-paused-delete');
const NAME = 'held';

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

describe.sequential('deleting a paused cluster', () => {
  let operator: RunningOperator;

  beforeAll(async () => {
    await installCRDs(kc);
    operator = await startTestOperator(kc, namespace(), [new InMemoryProvider()]);
    await applyClusterTemplate('inmemory', {
      CLUSTER_NAME: NAME,
      NAMESPACE: namespace(),
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '2',
    });
    await waitConverged(kc, namespace(), NAME, 60_000);
  }, 90_000);

  afterAll(async () => {
    await operator?.stop();
  });

  it('deletes nothing, says how to unpause, and finishes once that command is run', async () => {
    const target = `cluster.clusterforge.dev/${NAME}`;
    expect(
      (await kubectl(['annotate', '-n', namespace(), target, 'clusterforge.dev/paused=true'])).stderr,
    ).toBe('');
    await waitFor('phase Paused', async () =>
      (await getObject(kc, 'clusters', namespace(), NAME))?.status?.phase === 'Paused' ? true : undefined,
    );
    expect((await kubectl(['delete', '-n', namespace(), target, '--wait=false'])).stderr).toBe('');

    const fix = `kubectl annotate -n ${namespace()} ${target} clusterforge.dev/paused-`;
    const deleting = await waitFor('the Deleting condition', async () => {
      const c = condition(await getObject(kc, 'clusters', namespace(), NAME), 'Deleting');
      return c?.reason === 'Paused' ? c : undefined;
    });
    expect(deleting.status).toBe('False');
    expect(deleting.message).toContain(fix);
    const events = await waitFor('the DeletionPaused event', async () => {
      const list = await core.listNamespacedEvent({
        namespace: namespace(),
        fieldSelector: `involvedObject.name=${NAME},reason=DeletionPaused`,
      });
      return list.items.length > 0 ? list.items : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.type).toBe('Warning');
    expect(events[0]!.message).toContain(fix);

    // A while later, still nothing of the cluster is being deleted.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const plural of ['controlplanes', 'machinedeployments', 'machines']) {
      const objects = await listObjects(kc, plural, namespace());
      expect(objects.length, plural).toBeGreaterThan(0);
      expect(
        objects.filter((o) => o.metadata.deletionTimestamp).map((o) => o.metadata.name),
        plural,
      ).toEqual([]);
    }

    // The command the message gives, as a user would paste it.
    const [, ...args] = fix.split(' ');
    expect((await kubectl(args)).stderr).toBe('');
    await waitFor(
      'the Cluster to be gone',
      async () => ((await listObjects(kc, 'clusters', namespace())).length === 0 ? true : undefined),
      { timeoutMs: 60_000 },
    );
    for (const plural of ['controlplanes', 'machinedeployments', 'machines']) {
      expect(await listObjects(kc, plural, namespace()), plural).toEqual([]);
    }
  }, 120_000);
});
