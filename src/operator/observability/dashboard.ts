// The Grafana dashboard of docs/observability/: the fleet at a glance, then the operator's health.
// Declared here panel by panel so that each query is one line to read and review; generate.ts writes
// the JSON Grafana imports. Every metric a query names must be one the operator exports (the
// metrics test scrapes a running operator and checks).

/** One panel: its title, what it shows, and its PromQL (legend: how each series is named). */
interface PanelSpec {
  title: string;
  kind: 'stat' | 'timeseries' | 'table' | 'piechart';
  queries: { expr: string; legend?: string }[];
  unit?: string;
  description: string;
}

/** A Cluster counted once however many replicas export it (every replica exports the fleet gauges). */
const perCluster = (metric: string, by = ''): string =>
  `max by (namespace, name${by ? `, ${by}` : ''}) (${metric})`;

const FLEET: PanelSpec[] = [
  {
    title: 'Clusters',
    kind: 'stat',
    queries: [{ expr: `count(${perCluster('clusterforge_cluster_info')}) or vector(0)` }],
    description: 'Clusters the operator knows.',
  },
  {
    title: 'Not Ready',
    kind: 'stat',
    queries: [{ expr: `count(${perCluster('clusterforge_cluster_ready')} == 0) or vector(0)` }],
    description: 'Clusters whose Ready condition is not True.',
  },
  {
    title: 'Clusters by phase',
    kind: 'piechart',
    queries: [
      { expr: `count by (phase) (${perCluster('clusterforge_cluster_info', 'phase')})`, legend: '{{phase}}' },
    ],
    description: 'status.phase of every Cluster (empty before its first status).',
  },
  {
    title: 'Clusters by provider',
    kind: 'piechart',
    queries: [
      {
        expr: `count by (provider) (${perCluster('clusterforge_cluster_info', 'provider')})`,
        legend: '{{provider}}',
      },
    ],
    description: 'Which provider runs each Cluster.',
  },
  {
    title: 'Not Ready clusters',
    kind: 'table',
    queries: [
      {
        expr: `${perCluster('clusterforge_cluster_info', 'provider, phase')} and on (namespace, name) (${perCluster('clusterforge_cluster_ready')} == 0)`,
      },
    ],
    description: 'Each Cluster not Ready, with its provider and phase: `clusterforge describe` says why.',
  },
  {
    title: 'Upgrades in flight',
    kind: 'table',
    queries: [
      {
        expr: `${perCluster('clusterforge_cluster_controlplane_replicas{state="updated"}')} and on (namespace, name) ${perCluster('clusterforge_cluster_info{phase="Upgrading"}')}`,
        legend: 'control plane updated',
      },
      {
        expr: `${perCluster('clusterforge_cluster_worker_replicas{state="updated"}')} and on (namespace, name) ${perCluster('clusterforge_cluster_info{phase="Upgrading"}')}`,
        legend: 'workers updated',
      },
      {
        expr: `${perCluster('clusterforge_cluster_worker_replicas{state="desired"}')} and on (namespace, name) ${perCluster('clusterforge_cluster_info{phase="Upgrading"}')}`,
        legend: 'workers desired',
      },
    ],
    description: 'Clusters in phase Upgrading, with how many machines already run the new version.',
  },
  {
    title: 'Credentials and CAs expiring within 30 days',
    kind: 'table',
    unit: 's',
    queries: [
      {
        expr: `min by (namespace, name) (clusterforge_cluster_kubeconfig_expiry_timestamp_seconds) - time() < 30 * 86400`,
        legend: 'kubeconfig',
      },
      {
        expr: `min by (namespace, name, certificate) (clusterforge_cluster_certificate_expiry_timestamp_seconds) - time() < 30 * 86400`,
        legend: '{{certificate}} CA',
      },
    ],
    description: 'Time left; the operator renews the kubeconfig at two thirds of its life, never the CAs.',
  },
];

const OPERATOR: PanelSpec[] = [
  {
    title: 'Reconciles per second',
    kind: 'timeseries',
    unit: 'ops',
    queries: [
      {
        expr: 'sum by (controller, result) (rate(clusterforge_reconcile_total[5m]))',
        legend: '{{controller}} {{result}}',
      },
    ],
    description: 'By controller and result (success, requeue, error, terminal).',
  },
  {
    title: 'Reconcile errors per second',
    kind: 'timeseries',
    unit: 'ops',
    queries: [
      {
        expr: 'sum by (controller) (rate(clusterforge_reconcile_errors_total[5m]))',
        legend: '{{controller}}',
      },
    ],
    description: 'Transient and terminal failures; the warn lines of the log name them.',
  },
  {
    title: 'Reconcile latency (p50, p99)',
    kind: 'timeseries',
    unit: 's',
    queries: [0.5, 0.99].map((q) => ({
      expr: `histogram_quantile(${q}, sum by (le, controller) (rate(clusterforge_reconcile_duration_seconds_bucket[5m])))`,
      legend: `{{controller}} p${q * 100}`,
    })),
    description: 'Time taken by one reconcile.',
  },
  {
    title: 'Work queue depth',
    kind: 'timeseries',
    queries: [{ expr: 'sum by (name) (clusterforge_workqueue_depth)', legend: '{{name}}' }],
    description: 'Keys waiting to be reconciled, by controller.',
  },
  {
    title: 'Kubernetes API requests per second',
    kind: 'timeseries',
    unit: 'reqps',
    queries: [
      {
        expr: 'sum by (verb, code) (rate(clusterforge_api_requests_total[5m]))',
        legend: '{{verb}} {{code}}',
      },
    ],
    description: 'Requests to the management cluster by verb and HTTP code (0: no answer).',
  },
  {
    title: 'AWS API calls per second',
    kind: 'timeseries',
    unit: 'reqps',
    queries: [
      {
        expr: 'sum by (service, operation) (rate(clusterforge_aws_api_calls_total[5m]))',
        legend: '{{service}} {{operation}}',
      },
    ],
    description: 'Calls by service and operation (SDK retries not counted).',
  },
  {
    title: 'Provider calls per second',
    kind: 'timeseries',
    unit: 'ops',
    queries: [
      {
        expr: 'sum by (provider, outcome) (rate(clusterforge_provider_calls_total[5m]))',
        legend: '{{provider}} {{outcome}}',
      },
    ],
    description: 'Provider calls by outcome (done, inProgress, failed, error).',
  },
  {
    title: 'Operator memory and event loop',
    kind: 'timeseries',
    unit: 'bytes',
    queries: [
      { expr: 'clusterforge_process_resident_memory_bytes', legend: '{{instance}} resident' },
      { expr: 'clusterforge_nodejs_heap_size_used_bytes', legend: '{{instance}} heap used' },
    ],
    description: 'Resident memory and V8 heap of each replica.',
  },
];

const WIDTH = 24;
/** Grafana's variable syntax, meant literally: the data source the viewer picks. */
const DATASOURCE = { type: 'prometheus', uid: '$' + '{datasource}' };

/** The dashboard as Grafana's JSON model (schemaVersion 39), with a Prometheus data-source variable. */
export function dashboard(): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  const row = (title: string, specs: PanelSpec[]): void => {
    panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: WIDTH, x: 0, y } });
    y += 1;
    let x = 0;
    for (const spec of specs) {
      const w = spec.kind === 'stat' ? 6 : spec.kind === 'piechart' ? 6 : 12;
      const h = 8;
      if (x + w > WIDTH) {
        x = 0;
        y += h;
      }
      panels.push(panel(id++, spec, { h, w, x, y }));
      x += w;
    }
    y += 8;
  };
  row('Fleet', FLEET);
  row('Operator', OPERATOR);
  return {
    title: 'Clusterforge',
    uid: 'clusterforge-fleet',
    description: 'The clusters Clusterforge manages, and the health of its operator (docs/observability.md).',
    tags: ['clusterforge', 'kubernetes'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: {
      list: [{ name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus' }],
    },
    panels,
  };
}

function panel(id: number, spec: PanelSpec, gridPos: Record<string, number>): Record<string, unknown> {
  const table = spec.kind === 'table';
  return {
    id,
    type: spec.kind,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    fieldConfig: { defaults: spec.unit ? { unit: spec.unit } : {}, overrides: [] },
    options: table ? { showHeader: true } : {},
    ...(table ? { transformations: [{ id: 'merge', options: {} }] } : {}),
    targets: spec.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      ...(q.legend ? { legendFormat: q.legend } : {}),
      ...(table ? { format: 'table', instant: true } : {}),
    })),
  };
}

/** Every PromQL expression of the dashboard, for the test that checks the metrics they name. */
export function dashboardQueries(): string[] {
  return [...FLEET, ...OPERATOR].flatMap((p) => p.queries.map((q) => q.expr));
}
