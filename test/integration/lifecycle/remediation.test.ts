// Health checks on Simulated local workers, through the real controllers and a real kube-controller-
// manager: a worker whose heart-beats stop goes Ready=Unknown (the node lifecycle controller's grace
// period, about 50 s) and is replaced; with 3 of 4 unhealthy and maxUnhealthy 1 none is replaced and
// the MachineDeployment's RemediationAllowed condition says why.
//
// The heart-beat processes are frozen (SIGSTOP), not killed: the provider's supervisor starts a killed
// one again at the machine's next reconcile, as systemd restarts a kubelet, and the Node heals by itself.
// A frozen one is alive to the supervisor and silent to the cluster: a hung node.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, useOperator, waitFor } from '../../support/operator.js';
import { waitRemediated } from '../../support/remediation.js';
import { getJSON, publishedKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('remediation');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const CLUSTER = 'heal';
const POOL = `${CLUSTER}-workers`;
const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

const frozen = new Set<number>();
const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
};
// Thawed whatever happens, so the teardown's delete can stop them.
afterAll(() => {
  for (const pid of frozen) signal(pid, 'SIGCONT');
});

async function heartbeatPid(machine: string): Promise<number> {
  const path = join(operator().stateDir, 'local', namespace(), CLUSTER, 'machines', machine, 'machine.json');
  const record = JSON.parse(await readFile(path, 'utf8'));
  return record.worker.heartbeat.process.pid as number;
}

async function freeze(machine: string): Promise<void> {
  const pid = await heartbeatPid(machine);
  frozen.add(pid);
  signal(pid, 'SIGSTOP');
}

function thawAll(): void {
  for (const pid of frozen) signal(pid, 'SIGCONT');
  frozen.clear();
}

const workers = async (): Promise<any[]> =>
  (await listObjects(kc, 'machines', namespace())).filter((m) => m.spec.role === 'Worker');

async function nodeReady(kubeconfig: string): Promise<Map<string, string>> {
  const nodes = await getJSON(kubeconfig, '/api/v1/nodes');
  return new Map(nodes.items.map((n: any) => [n.metadata.name, condition(n, 'Ready')?.status ?? 'Unknown']));
}

async function patchPool(spec: object): Promise<void> {
  const out = await kubectl([
    'patch',
    '-n',
    namespace(),
    `machinedeployment/${POOL}`,
    '--type=merge',
    '-p',
    JSON.stringify({ spec }),
  ]);
  expect(out.stderr).toBe('');
}

async function eventReasons(kind: string, name: string): Promise<string[]> {
  const events = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace: namespace(),
    fieldSelector: `involvedObject.name=${name},involvedObject.kind=${kind}`,
  });
  return events.items.map((e) => e.reason ?? '');
}

const poolReady = (replicas: number) =>
  waitFor(
    `${replicas} ready workers`,
    async () => {
      const md = await getObject(kc, 'machinedeployments', namespace(), POOL);
      return md?.status?.readyReplicas === replicas && md.status.replicas === replicas ? md : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );

describe.sequential('health checks and remediation of Simulated workers', () => {
  let kubeconfig = '';

  beforeAll(async () => {
    operator();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: CLUSTER,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Simulated',
      WORKER_MACHINE_COUNT: '4',
    });
    expect((await kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    await poolReady(4);
    kubeconfig = await publishedKubeconfig(kc, namespace(), CLUSTER);
  }, 180_000);

  it('3 of 4 workers unhealthy with maxUnhealthy 1: none is replaced, and RemediationAllowed says why', async () => {
    const before = (await workers()).map((m) => m.metadata.name).sort();
    const victims = before.slice(0, 3);
    for (const m of victims) await freeze(m);
    try {
      await heldWhileThreeAreDown(before, victims);
    } finally {
      // The heart-beats come back: the machines are healthy again, nothing was replaced.
      thawAll();
    }
    await waitFor(
      'RemediationAllowed=True',
      async () => {
        const o = await getObject(kc, 'machinedeployments', namespace(), POOL);
        return condition(o, 'RemediationAllowed')?.status === 'True' ? o : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await poolReady(4);
    expect((await workers()).map((m) => m.metadata.name).sort()).toEqual(before);
  }, 300_000);

  async function heldWhileThreeAreDown(before: string[], victims: string[]): Promise<void> {
    await waitFor(
      'three Nodes Ready=Unknown',
      async () => {
        const ready = await nodeReady(kubeconfig);
        return victims.every((v) => ready.get(v) === 'Unknown') ? true : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    // Set now, with a timeout all three have passed: the first look sees all of them unhealthy.
    await patchPool({ healthCheck: { unhealthyNodeTimeout: '1s', maxUnhealthy: 1 } });
    const md = await waitFor(
      'RemediationAllowed=False',
      async () => {
        const o = await getObject(kc, 'machinedeployments', namespace(), POOL);
        return condition(o, 'RemediationAllowed')?.status === 'False' ? o : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(condition(md, 'RemediationAllowed')).toMatchObject({ reason: 'TooManyUnhealthy' });
    expect(condition(md, 'RemediationAllowed').message).toContain(
      '3 of 4 machines are unhealthy, more than maxUnhealthy (1): none is replaced',
    );
    for (const name of victims) {
      // Written by the same round, unless the Machine changed under it: then by the next one.
      const m = await waitFor(
        `${name} HealthCheckSucceeded=False`,
        async () => {
          const o = await getObject(kc, 'machines', namespace(), name);
          return condition(o, 'HealthCheckSucceeded')?.status === 'False' ? o : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(condition(m, 'HealthCheckSucceeded')).toMatchObject({ reason: 'NodeNotReady' });
      expect(condition(m, 'OwnerRemediated')).toMatchObject({
        status: 'False',
        reason: 'WaitingForRemediation',
      });
      expect(await eventReasons('Machine', name)).toContain('MachineUnhealthy');
    }
    expect(await eventReasons('MachineDeployment', POOL)).toContain('TooManyUnhealthy');
    // Held for good, not for a round: several rounds later (one every 10 s at most) nothing is deleting.
    await new Promise((r) => setTimeout(r, 25_000));
    const after = await workers();
    expect(after.map((m) => m.metadata.name).sort()).toEqual(before);
    expect(after.filter((m) => m.metadata.deletionTimestamp)).toEqual([]);
  }

  it('a worker whose heart-beats stop is drained and replaced within the timeout', async () => {
    await patchPool({ healthCheck: { unhealthyNodeTimeout: '5s', maxUnhealthy: 1 } });
    const [victim, ...others] = (await workers()).map((m) => m.metadata.name).sort();
    await freeze(victim!);
    // About 50 s for the node lifecycle controller to call it Unknown, 5 s more of timeout.
    const health = await waitRemediated(kc, namespace(), victim!, 120_000);
    if (health) expect(health).toMatchObject({ status: 'False', reason: 'NodeNotReady' });
    await poolReady(4);
    const now = (await workers()).map((m) => m.metadata.name);
    expect(now).not.toContain(victim);
    expect(now).toEqual(expect.arrayContaining(others));
    expect(await eventReasons('MachineDeployment', POOL)).toContain('MachineRemediated');
    // Deleted through the usual path: the Node was drained (nothing to evict) before it went.
    expect((await nodeReady(kubeconfig)).has(victim!)).toBe(false);
  }, 300_000);
});
