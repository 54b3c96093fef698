// The Cluster's phase as a user watches it with `kubectl get -w` while the workers are scaled up and
// down: Scaling, then Ready, never Upgrading, and Ready only with the Ready condition True; and an Event on
// the Cluster for every phase change.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { startTestOperator, waitFor } from '../../support/operator.js';
import { watchClusterPhase } from '../../support/phase-watch.js';
import { applyClusterTemplate } from '../../support/templates.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const namespace = useTestNamespace('inmemory-phases');
const NAME = 'phases';

async function scaleWorkers(replicas: number): Promise<void> {
  const scaled = await kubectl([
    'scale',
    '-n',
    namespace(),
    `machinedeployment.clusterforge.dev/${NAME}-workers`,
    `--replicas=${replicas}`,
  ]);
  expect(scaled.stderr).toBe('');
  expect(scaled.code).toBe(0);
}

/** The notes of the Cluster's PhaseChanged Events. */
async function phaseEvents(): Promise<string[]> {
  const events = await core.listNamespacedEvent({
    namespace: namespace(),
    fieldSelector: `involvedObject.name=${NAME},involvedObject.kind=Cluster,reason=PhaseChanged`,
  });
  return events.items.map((e) => e.message ?? '');
}

describe.sequential('the phase of a cluster whose workers are scaled', () => {
  let operator: RunningOperator;

  beforeAll(async () => {
    await installCRDs(kc);
    operator = await startTestOperator(kc, namespace(), [new InMemoryProvider()]);
    // Machines take 2 s to come up, so a scale is seen while it happens.
    await applyClusterTemplate('inmemory', {
      CLUSTER_NAME: NAME,
      NAMESPACE: namespace(),
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '1',
      STARTUP_DELAY_SECONDS: '2',
    });
    await waitConverged(kc, namespace(), NAME, 60_000);
  }, 90_000);

  afterAll(async () => {
    await kubectl(['delete', '-n', namespace(), `cluster.clusterforge.dev/${NAME}`, '--wait=true']);
    await operator?.stop();
  }, 60_000);

  it('told every phase of its provisioning with an Event', async () => {
    const notes = await waitFor('the Ready event', async () => {
      const all = await phaseEvents();
      return all.some((n) => n.endsWith('-> Ready (ready)')) ? all : undefined;
    });
    // The first status the reconciler wrote, then the way to Ready.
    expect(notes.filter((n) => n.startsWith('phase none -> '))).toHaveLength(1);
    expect(notes.some((n) => n.includes('-> Provisioning ('))).toBe(true);
  });

  it.each([
    ['up', 3],
    ['down', 1],
  ] as const)(
    'scaled %s to %i: Scaling, then Ready (with Ready=True), never Upgrading; an Event for each change',
    async (_, replicas) => {
      const watch = watchClusterPhase(namespace(), NAME);
      // The watch prints the current phase first: start from a line that says Ready.
      await new Promise((r) => setTimeout(r, 500));
      await scaleWorkers(replicas);
      await waitFor(
        `${replicas} worker machine(s) and Scaling over`,
        async () => {
          const cluster = await waitConverged(kc, namespace(), NAME, 30_000);
          return cluster.status.phase === 'Ready' ? cluster : undefined;
        },
        { timeoutMs: 40_000 },
      );
      const seen = await watch.stop();
      expect(seen).toEqual(['Ready True ready', 'Scaling False scaling', 'Ready True ready']);
      const notes = await waitFor('the events of the scale', async () => {
        const all = await phaseEvents();
        return all.includes('phase Ready (ready) -> Scaling (scaling)') &&
          all.includes('phase Scaling (scaling) -> Ready (ready)')
          ? all
          : undefined;
      });
      expect(notes.some((n) => n.includes('Upgrading'))).toBe(false);
    },
    60_000,
  );
});
