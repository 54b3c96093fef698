// Three operator replicas as processes, `--shards 3`: the shard Leases spread one per replica, 60
// in-memory clusters come up Ready, a replica killed with -9 loses its shard to the survivors within the
// lease duration (theirs stay where they are) and its clusters are reconciled again by them; the
// replicas' own logs (each reconcile's start and end, with shard and cluster) show no cluster in the
// hands of two replicas at once.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../../src/runtime/shard-hash.js';
import { SHARD_LABELS } from '../../../src/runtime/shards.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { listObjects, waitFor } from '../../support/operator.js';
import { type OperatorProcess, spawnOperator } from '../../support/operator-process.js';

const kc = testKubeConfig();
const leases = kc.makeApiClient(CoordinationV1Api);
const namespace = useTestNamespace('shards');
const SHARDS = 3;
const CLUSTERS = 60;
const LEASE_SECONDS = 6;
const names = Array.from({ length: CLUSTERS }, (_, i) => `c${i}`);

let stateDir = '';
const replicas: OperatorProcess[] = [];
const logFile = (i: number) => join(stateDir, `replica-${i}.log`);

interface Line {
  time: string;
  msg: string;
  identity?: string;
  address?: string;
  shard?: number;
  cluster?: string;
}
async function linesOf(i: number): Promise<Line[]> {
  const text = await readFile(logFile(i), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
}

/** Shard number -> holder identity, of the shard Leases as the API server has them. */
async function holders(): Promise<Map<number, string>> {
  const list = await leases.listNamespacedLease({
    namespace: namespace(),
    labelSelector: `${SHARD_LABELS.lease}=clusterforge-shard`,
  });
  const out = new Map<number, string>();
  for (const lease of list.items) {
    const shard = Number(lease.metadata!.name!.replace('clusterforge-shard-', ''));
    if (lease.spec?.holderIdentity) out.set(shard, lease.spec.holderIdentity);
  }
  return out;
}

beforeAll(async () => {
  await installCRDs(kc);
  stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-shards-'));
});
afterAll(async () => {
  // Every replica goes, even when a test failed half-way; the Leases and clusters go with the namespace.
  await Promise.all(replicas.map((r) => r.kill('SIGKILL')));
  if (process.env.KEEP_SHARD_LOGS) console.log(`replica logs kept in ${stateDir}`);
  else await rm(stateDir, { recursive: true, force: true });
});

describe.sequential(`${SHARDS} sharded replicas`, () => {
  const identities: string[] = [];
  const addresses: string[] = [];
  let before = new Map<number, string>();
  let killedAt = 0;
  const VICTIM = 0;

  it('spread the shard Leases one per replica', async () => {
    for (let i = 0; i < 3; i++) {
      replicas.push(
        spawnOperator({
          kubeconfigPath: testKubeconfigPath(),
          namespace: namespace(),
          stateDir,
          logFile: logFile(i),
          logLevel: 'debug',
          args: [
            `--shards=${SHARDS}`,
            `--leader-election-namespace=${namespace()}`,
            `--leader-elect-lease-duration=${LEASE_SECONDS}s`,
          ],
        }),
      );
    }
    for (let i = 0; i < 3; i++) {
      const started = await waitFor(
        `replica ${i} to start`,
        async () => (await linesOf(i)).find((l) => l.msg === 'manager started'),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      identities.push(started.identity!);
      addresses.push(started.address!);
    }
    before = await waitFor(
      'one shard per replica',
      async () => {
        const h = await holders();
        return h.size === SHARDS && new Set(h.values()).size === 3 ? h : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: async () => JSON.stringify([...(await holders())]) },
    );
    expect(new Set(before.values())).toEqual(new Set(identities));
  }, 150_000);

  it(`bring ${CLUSTERS} in-memory clusters to Ready`, async () => {
    const template = await readFile('templates/inmemory/cluster-template.yaml', 'utf8');
    const manifest = names
      .map((name) =>
        renderTemplate(template, {
          CLUSTER_NAME: name,
          NAMESPACE: namespace(),
          CONTROL_PLANE_MACHINE_COUNT: '1',
          WORKER_MACHINE_COUNT: '1',
        }),
      )
      .join('\n---\n');
    const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
    expect(applied.stderr).toBe('');
    await waitFor(
      `${CLUSTERS} clusters Ready`,
      async () => {
        const clusters = await listObjects(kc, 'clusters', namespace());
        return clusters.filter((c) => c.status?.phase === 'Ready').length === CLUSTERS ? true : undefined;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        describe: async () => {
          const clusters = await listObjects(kc, 'clusters', namespace());
          return `Ready: ${clusters.filter((c) => c.status?.phase === 'Ready').length}/${clusters.length}`;
        },
      },
    );
    // Each replica reconciled the clusters of its shard, and none of a shard it never held (a shard that
    // moved under load would be in two replicas' lists, one after the other: that is allowed).
    for (let i = 0; i < 3; i++) {
      const lines = await linesOf(i);
      const clustersOf = (shards: number[]) =>
        names
          .filter((n) => shards.includes(shardOf(namespace(), n, SHARDS)))
          .map((n) => `${namespace()}/${n}`);
      const mine = clustersOf([...before].filter(([, holder]) => holder === identities[i]).map(([s]) => s));
      const ever = clustersOf(lines.filter((l) => l.msg === 'acquired a shard').map((l) => l.shard!));
      const reconciled = new Set(
        lines.filter((l) => l.msg === 'shard reconcile started').map((l) => l.cluster!),
      );
      expect(mine.length).toBeGreaterThan(0);
      for (const cluster of mine) expect(reconciled.has(cluster), `${cluster} by replica ${i}`).toBe(true);
      for (const cluster of reconciled) expect(ever, `replica ${i} reconciled ${cluster}`).toContain(cluster);
    }
  }, 150_000);

  it('hand a killed replica’s shard to the survivors within the lease duration; theirs do not move', async () => {
    const lost = [...before].filter(([, h]) => h === identities[VICTIM]).map(([s]) => s);
    killedAt = Date.now();
    expect(await replicas[VICTIM]!.kill('SIGKILL')).toBeNull();
    const after = await waitFor(
      'the survivors to hold every shard',
      async () => {
        const h = await holders();
        const survivors = [...h.values()].every((id) => id !== identities[VICTIM]);
        return h.size === SHARDS && survivors ? h : undefined;
      },
      { timeoutMs: (LEASE_SECONDS + 10) * 1000, intervalMs: 200 },
    );
    const tookMs = Date.now() - killedAt;
    console.log(`shard(s) ${lost} taken over ${tookMs} ms after the kill (lease ${LEASE_SECONDS} s)`);
    // The lease duration, plus one retry period (1/5 of it, with jitter) for the candidate's next look.
    expect(tookMs).toBeLessThanOrEqual(LEASE_SECONDS * 1000 * 1.3);
    for (const [shard, holder] of before)
      if (holder !== identities[VICTIM]) expect(after.get(shard)).toBe(holder);

    // Every cluster of the lost shard is reconciled again, by a survivor, soon after.
    const moved = names
      .filter((n) => lost.includes(shardOf(namespace(), n, SHARDS)))
      .map((n) => `${namespace()}/${n}`);
    const firstAfter = await waitFor(
      'the survivors to reconcile the moved clusters',
      async () => {
        const seen = new Map<string, number>();
        for (const i of [1, 2]) {
          for (const l of await linesOf(i)) {
            const t = Date.parse(l.time);
            if (l.msg === 'shard reconcile started' && t > killedAt && l.cluster && !seen.has(l.cluster))
              seen.set(l.cluster, t);
          }
        }
        return moved.every((c) => seen.has(c)) ? seen : undefined;
      },
      { timeoutMs: (LEASE_SECONDS + 20) * 1000, intervalMs: 500 },
    );
    const last = Math.max(...moved.map((c) => firstAfter.get(c)!)) - killedAt;
    console.log(`${moved.length} moved clusters all reconciled again ${last} ms after the kill`);
    expect(last).toBeLessThanOrEqual(LEASE_SECONDS * 1000 + 5_000);
    const clusters = await listObjects(kc, 'clusters', namespace());
    expect(clusters.filter((c) => c.status?.phase === 'Ready')).toHaveLength(CLUSTERS);
    // The survivors' gauges say the same as the Leases.
    const held = await Promise.all(
      [1, 2].map(async (i) => {
        const text = await (await fetch(`${addresses[i]}/metrics`)).text();
        return Number(/^clusterforge_shards_held (\d+)$/m.exec(text)?.[1]);
      }),
    );
    const byLeases = [1, 2].map((i) => [...after.values()].filter((id) => id === identities[i]).length);
    expect(held).toEqual(byLeases);
  }, 60_000);

  it('never had a cluster in the hands of two replicas at once (audit of the replicas’ logs)', async () => {
    // Per cluster and replica: [start, end] of each reconcile; the killed one's open reconciles end at the kill.
    const intervals = new Map<string, Array<{ replica: number; start: number; end: number }>>();
    for (let i = 0; i < 3; i++) {
      const open = new Map<string, number[]>();
      for (const l of await linesOf(i)) {
        if (!l.cluster || (l.msg !== 'shard reconcile started' && l.msg !== 'shard reconcile ended'))
          continue;
        const t = Date.parse(l.time);
        const stack = open.get(l.cluster) ?? [];
        open.set(l.cluster, stack);
        if (l.msg === 'shard reconcile started') stack.push(t);
        else {
          const list = intervals.get(l.cluster) ?? [];
          intervals.set(l.cluster, list);
          list.push({ replica: i, start: stack.shift()!, end: t });
        }
      }
      for (const [cluster, starts] of open) {
        const list = intervals.get(cluster) ?? [];
        intervals.set(cluster, list);
        const end = i === VICTIM ? killedAt : Date.now();
        for (const start of starts) list.push({ replica: i, start, end });
      }
    }
    expect(intervals.size).toBe(CLUSTERS);
    let handedOver = 0;
    for (const [cluster, list] of intervals) {
      const byReplica = new Set(list.map((x) => x.replica));
      if (byReplica.size > 1) handedOver += 1;
      for (const a of list)
        for (const b of list)
          if (a.replica < b.replica && a.start <= b.end && b.start <= a.end)
            throw new Error(
              `${cluster}: replica ${a.replica} and replica ${b.replica} at once: ${JSON.stringify([a, b])}`,
            );
    }
    // The audit saw the hand-over it is about: the killed replica's clusters, in two replicas' logs.
    expect(handedOver).toBeGreaterThan(0);
  });
});
