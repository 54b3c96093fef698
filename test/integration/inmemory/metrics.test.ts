// /metrics of a real operator as Prometheus scrapes it: a Ready in-memory cluster's series, gone with the
// cluster; docs/observability.md naming exactly the metrics the operator exports; and the dashboard
// and alert rules of docs/observability/ querying only those.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import { dashboardQueries } from '../../../src/operator/observability/dashboard.js';
import { RULES_FILE } from '../../../src/operator/observability/generate.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { startTestOperator, waitFor } from '../../support/operator.js';
import { applyClusterTemplate } from '../../support/templates.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('inmemory-metrics');
const NAME = 'metered';

describe.sequential('the fleet metrics of a running operator', () => {
  let operator: RunningOperator;

  /** The body of GET /metrics, over HTTP. */
  const scrape = async (): Promise<string> => {
    const addr = operator.manager.address();
    if (!addr) throw new Error('the operator serves no /metrics');
    const response = await fetch(`http://${addr.host}:${addr.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return await response.text();
  };
  const seriesOf = (text: string, cluster: string): string[] =>
    text.split('\n').filter((l) => l.includes(`namespace="${namespace()}",name="${cluster}"`));

  beforeAll(async () => {
    await installCRDs(kc);
    operator = await startTestOperator(kc, namespace(), [new InMemoryProvider()]);
  });

  afterAll(async () => {
    await kubectl(['delete', '-n', namespace(), `cluster.clusterforge.dev/${NAME}`, '--ignore-not-found']);
    await operator?.stop();
  }, 60_000);

  it('names every metric it exports in docs/observability.md, and no other', async () => {
    const exported = [...(await scrape()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    const doc = await readFile('docs/observability.md', 'utf8');
    // The table rows: | `name` | type | labels | meaning |
    const documented = [...doc.matchAll(/^\| `(clusterforge_[a-z0-9_]+)` \| (\w+) \|/gm)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    expect(exported.length).toBeGreaterThan(40);
    expect([...documented].sort()).toEqual([...exported].sort());
  });

  it('exports every metric the dashboard and the alert rules query', async () => {
    const exported = new Map(
      [...(await scrape()).matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
    const rules = parse(await readFile(RULES_FILE, 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    const queries = [...dashboardQueries(), ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr))];
    const named = new Set(
      queries.flatMap((q) => [...q.matchAll(/\bclusterforge_[a-z0-9_]+/g)].map((m) => m[0])),
    );
    // A histogram is queried through its _bucket, _sum and _count series.
    const missing = [...named].filter((name) => {
      if (exported.has(name)) return false;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return exported.get(base) !== 'histogram';
    });
    expect(named.size).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('says a Ready cluster is Ready, with its provider, version and replicas', async () => {
    await applyClusterTemplate('inmemory', {
      CLUSTER_NAME: NAME,
      NAMESPACE: namespace(),
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '2',
      KUBERNETES_VERSION: 'v1.37.2',
    });
    await waitConverged(kc, namespace(), NAME, 60_000);

    const key = `namespace="${namespace()}",name="${NAME}"`;
    // The cache may trail the API server by a watch event: wait for the scrape to say Ready.
    const body = await waitFor('the scrape to say Ready', async () => {
      const b = await scrape();
      return b.includes(`clusterforge_cluster_ready{${key}} 1`) ? b : undefined;
    });
    const lines = body.split('\n');
    expect(lines).toContain(
      `clusterforge_cluster_info{${key},provider="inmemory",version="v1.37.2",phase="Ready"} 1`,
    );
    for (const state of ['desired', 'ready', 'updated']) {
      expect(lines).toContain(`clusterforge_cluster_controlplane_replicas{${key},state="${state}"} 1`);
      expect(lines).toContain(`clusterforge_cluster_worker_replicas{${key},state="${state}"} 2`);
    }
    const expiry = (prefix: string) => Number(lines.find((l) => l.startsWith(prefix))?.split(' ')[1]);
    const now = Date.now() / 1000;
    expect(expiry(`clusterforge_cluster_kubeconfig_expiry_timestamp_seconds{${key}} `)).toBeGreaterThan(now);
    for (const ca of ['ca', 'etcd', 'proxy'])
      expect(
        expiry(`clusterforge_cluster_certificate_expiry_timestamp_seconds{${key},certificate="${ca}"} `),
      ).toBeGreaterThan(now + 365 * 86400);
    expect(
      lines.some((l) => /^clusterforge_build_info\{version="\d+\.\d+\.\d+",node_version="v20\./.test(l)),
    ).toBe(true);
  }, 90_000);

  it('drops every series of the cluster once it is deleted', async () => {
    expect(seriesOf(await scrape(), NAME).length).toBeGreaterThan(0);
    const deleted = await kubectl([
      'delete',
      '-n',
      namespace(),
      `cluster.clusterforge.dev/${NAME}`,
      '--wait=true',
      '--timeout=60s',
    ]);
    expect(deleted.code).toBe(0);
    const left = await waitFor('the series to go', async () => {
      const series = seriesOf(await scrape(), NAME);
      return series.length === 0 ? series : undefined;
    });
    expect(left).toEqual([]);
  }, 90_000);
});
