// Fleet metrics: one series per cluster, computed at each scrape from the operator's informer caches.
//
// Nothing is kept per cluster between scrapes: a deleted cluster leaves the caches, so its series
// vanish with it. Every gauge is registered once per registry (tests run several operators in one
// process); each operator adds its caches as a source and removes them when it stops.
import type { V1Secret } from '@kubernetes/client-node';
import { Gauge, type Registry } from 'prom-client';
import type { Cluster, ControlPlane, MachineDeployment } from '../api/v1alpha1/index.js';
import { CLUSTER_NAME_LABEL, EXPIRES_AT_ANNOTATION } from '../api/v1alpha1/labels.js';
import { BY_CLUSTER } from '../controllers/common/indexes.js';
import type { Store } from '../controllers/common/store.js';
import { loadCertificate } from '../pki/inspect.js';
import { providerNameOf } from '../provider/registry.js';
import { kubeconfigSecretName } from '../publish/kubeconfig-secret-names.js';

/** The caches the fleet metrics read. */
export interface FleetSource {
  clusters: Store<Cluster>;
  controlPlanes: Store<ControlPlane>;
  deployments: Store<MachineDeployment>;
  /** The Secrets the operator made (labelled with the cluster's name). */
  secrets: Pick<Store<V1Secret>, 'get'>;
}

type Labels = Record<string, string>;
export interface Sample {
  name: FleetMetricName;
  labels: Labels;
  value: number;
}

/** Every fleet metric (prefixed with clusterforge_), with the help /metrics shows. */
export const FLEET_HELP = {
  cluster_info:
    '1 per Cluster; version is status.version (empty until every part agrees), phase status.phase.',
  cluster_ready: "1 while the Cluster's Ready condition is True, else 0.",
  cluster_controlplane_replicas:
    "The Cluster's control-plane machines by state: desired (spec), ready, updated (at the desired version and template).",
  cluster_worker_replicas:
    "The Cluster's worker machines summed over its MachineDeployments, by state: desired, ready, updated.",
  cluster_kubeconfig_expiry_timestamp_seconds:
    'When the credential in the <cluster>-kubeconfig Secret expires (Unix seconds); absent for one that does not expire.',
  cluster_certificate_expiry_timestamp_seconds:
    'When each certificate authority of the cluster (ca, etcd, proxy; its <cluster>-<certificate> Secret) expires (Unix seconds).',
} as const;
export type FleetMetricName = keyof typeof FLEET_HELP;

/** Each is labelled with the Cluster's namespace and name, then these. */
const EXTRA_LABELS: Record<FleetMetricName, string[]> = {
  cluster_info: ['provider', 'version', 'phase'],
  cluster_ready: [],
  cluster_controlplane_replicas: ['state'],
  cluster_worker_replicas: ['state'],
  cluster_kubeconfig_expiry_timestamp_seconds: [],
  cluster_certificate_expiry_timestamp_seconds: ['certificate'],
};

/** The CA Secrets whose certificate expiry is exported (the `sa` Secret holds a key pair, no certificate). */
const AUTHORITIES = ['ca', 'etcd', 'proxy'] as const;

// Cached objects are frozen and replaced on every change, so a parsed expiry is kept by object identity:
// a certificate is parsed once per version of its Secret, and forgotten with it.
const certificateExpiry = new WeakMap<object, number | undefined>();

function expiryOf(secret: V1Secret): number | undefined {
  if (certificateExpiry.has(secret)) return certificateExpiry.get(secret);
  let expiry: number | undefined;
  const data = secret.data?.['tls.crt'];
  try {
    if (data)
      expiry = loadCertificate(Buffer.from(data, 'base64').toString('utf8')).notAfter.getTime() / 1000;
  } catch {
    // Not a certificate we can read: no series rather than a failed scrape.
  }
  certificateExpiry.set(secret, expiry);
  return expiry;
}

function providerOf(cluster: Cluster): string {
  try {
    return providerNameOf(cluster);
  } catch {
    return '';
  }
}

const replicaSamples = (
  name: FleetMetricName,
  key: Labels,
  counts: { desired: number; ready: number; updated: number },
): Sample[] =>
  (['desired', 'ready', 'updated'] as const).map((state) => ({
    name,
    labels: { ...key, state },
    value: counts[state],
  }));

/** The fleet's samples, as the caches hold it now. */
export function fleetSamples(source: FleetSource): Sample[] {
  const samples: Sample[] = [];
  for (const cluster of source.clusters.list()) {
    const namespace = cluster.metadata.namespace ?? '';
    const name = cluster.metadata.name ?? '';
    const key = { namespace, name };
    const status = cluster.status;
    samples.push({
      name: 'cluster_info',
      labels: {
        ...key,
        provider: providerOf(cluster),
        version: status?.version ?? '',
        phase: status?.phase ?? '',
      },
      value: 1,
    });
    const ready = status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
    samples.push({ name: 'cluster_ready', labels: key, value: ready ? 1 : 0 });

    const cpName = cluster.spec.controlPlaneRef?.name;
    const cp = cpName ? source.controlPlanes.get(namespace, cpName) : undefined;
    if (cp)
      samples.push(
        ...replicaSamples('cluster_controlplane_replicas', key, {
          desired: cp.spec.replicas ?? 0,
          ready: cp.status?.readyReplicas ?? 0,
          updated: cp.status?.updatedReplicas ?? 0,
        }),
      );
    const workers = { desired: 0, ready: 0, updated: 0 };
    for (const md of source.deployments.byIndex(BY_CLUSTER, namespace, name)) {
      workers.desired += md.spec.replicas ?? 0;
      workers.ready += md.status?.readyReplicas ?? 0;
      workers.updated += md.status?.updatedReplicas ?? 0;
    }
    samples.push(...replicaSamples('cluster_worker_replicas', key, workers));

    // Only a Secret labelled with this cluster's name is its own (a name like <cluster>-ca proves nothing).
    const own = (secretName: string): V1Secret | undefined => {
      const secret = source.secrets.get(namespace, secretName);
      return secret?.metadata?.labels?.[CLUSTER_NAME_LABEL] === name ? secret : undefined;
    };
    const kubeconfig = own(kubeconfigSecretName(name));
    const expires = Date.parse(kubeconfig?.metadata?.annotations?.[EXPIRES_AT_ANNOTATION] ?? '');
    if (!Number.isNaN(expires))
      samples.push({
        name: 'cluster_kubeconfig_expiry_timestamp_seconds',
        labels: key,
        value: expires / 1000,
      });
    for (const certificate of AUTHORITIES) {
      const secret = own(`${name}-${certificate}`);
      const expiry = secret && expiryOf(secret);
      if (expiry !== undefined)
        samples.push({
          name: 'cluster_certificate_expiry_timestamp_seconds',
          labels: { ...key, certificate },
          value: expiry,
        });
    }
  }
  return samples;
}

const registered = new WeakMap<Registry, Set<FleetSource>>();

/** The fleet gauges in `registry`, created on first use; their collect() reads every source added. */
function sourcesOf(registry: Registry): Set<FleetSource> {
  const existing = registered.get(registry);
  if (existing) return existing;
  const sources = new Set<FleetSource>();
  registered.set(registry, sources);
  for (const name of Object.keys(FLEET_HELP) as FleetMetricName[])
    new Gauge({
      name: `clusterforge_${name}`,
      help: FLEET_HELP[name],
      labelNames: ['namespace', 'name', ...EXTRA_LABELS[name]],
      registers: [registry],
      // Each gauge walks the caches itself: a few lookups per cluster, cheaper than coordinating scrapes.
      collect() {
        this.reset();
        for (const source of sources)
          for (const s of fleetSamples(source)) if (s.name === name) this.set(s.labels, s.value);
      },
    });
  return sources;
}

/**
 * Exports the fleet metrics of `source` in `registry` until the returned function is called (when the
 * operator stops).
 */
export function exportFleetMetrics(registry: Registry, source: FleetSource): () => void {
  const sources = sourcesOf(registry);
  sources.add(source);
  return () => {
    sources.delete(source);
  };
}
