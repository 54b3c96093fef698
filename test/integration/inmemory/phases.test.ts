// The Cluster's phase as a user watches it with `kubectl get -w` while the workers are scaled up and
// down: Scaling, then Ready, never Upgrading, and Ready only with the Ready condition True; and an Event on
// the Cluster for every phase change.
import { spawn } from 'node:child_process';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { startTestOperator, waitFor } from '../../support/operator.js';
import { applyClusterTemplate } from '../../support/templates.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const namespace = useTestNamespace('inmemory-phases');
const NAME = 'phases';

/** `kubectl get -w` of the Cluster's phase, Ready condition and state: every line it printed, until stop(). */
function watchPhase(): { stop: () => Promise<string[]> } {
  const child = spawn(
    'kubectl',
    [
      `--kubeconfig=${testKubeconfigPath()}`,
      `--namespace=${namespace()}`,
      'get',
      `cluster.clusterforge.dev/${NAME}`,
      '--watch',
      '--no-headers',
      '--output=custom-columns=PHASE:.status.phase,READY:.status.conditions[?(@.type=="Ready")].status,STATE:.status.lifecycle.state',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
      expect(err).toBe('');
      const lines = out
        .split('\n')
        .map((l) => l.trim().split(/\s+/).join(' '))
        .filter(Boolean);
      return lines.filter((l, i) => i === 0 || lines[i - 1] !== l);
    },
  };
}

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
      const watch = watchPhase();
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
