// The fleet metrics from plain objects: what /metrics says of each cluster, and that a cluster gone from
// the caches leaves no series behind.
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Cluster, ControlPlane, MachineDeployment } from '../../../src/api/v1alpha1/index.js';
import { BY_CLUSTER } from '../../../src/controllers/common/indexes.js';
import type { Store } from '../../../src/controllers/common/store.js';
import { exportFleetMetrics, type FleetSource } from '../../../src/operator/fleet-metrics.js';
import { generateClusterCertificates } from '../../../src/pki/cluster.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';

/** A Store over an array, as the informer cache behaves (byIndex only for spec.clusterName). */
function storeOf<T extends { metadata: { namespace?: string; name?: string } }>(items: T[]): Store<T> {
  return {
    get: (ns, name) => items.find((o) => o.metadata.namespace === ns && o.metadata.name === name),
    list: () => [...items],
    byIndex: (index, ns, value) => {
      expect(index).toBe(BY_CLUSTER);
      return items.filter(
        (o) =>
          o.metadata.namespace === ns &&
          (o as { spec?: { clusterName?: string } }).spec?.clusterName === value,
      );
    },
  };
}

const cluster = (name: string, status: Cluster['status']): Cluster =>
  ({
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { namespace: 'fleet', name },
    spec: { infrastructure: { inMemory: {} }, controlPlaneRef: { name: `${name}-cp` } },
    status,
  }) as Cluster;

const md = (name: string, clusterName: string, replicas: number, ready: number, updated: number) =>
  ({
    metadata: { namespace: 'fleet', name },
    spec: { clusterName, replicas },
    status: { readyReplicas: ready, updatedReplicas: updated },
  }) as MachineDeployment;

describe('fleet metrics', () => {
  it('exports each cluster from the caches, and nothing of a deleted one', async () => {
    const certs = await generateClusterCertificates();
    const clusters = [
      cluster('a', {
        phase: 'Ready',
        version: 'v1.33.1',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      } as Cluster['status']),
      cluster('b', { phase: 'Provisioning' }),
    ];
    const controlPlanes = [
      {
        metadata: { namespace: 'fleet', name: 'a-cp' },
        spec: { replicas: 3 },
        status: { readyReplicas: 2, updatedReplicas: 3 },
      } as ControlPlane,
    ];
    const deployments = [md('a-md-0', 'a', 2, 2, 1), md('a-md-1', 'a', 3, 1, 3), md('b-md', 'b', 4, 0, 0)];
    const secrets: V1Secret[] = [
      {
        metadata: {
          namespace: 'fleet',
          name: 'a-kubeconfig',
          labels: { 'clusterforge.dev/cluster-name': 'a' },
          annotations: { 'clusterforge.dev/credential-expires-at': '2027-01-01T00:00:00.000Z' },
        },
      },
      {
        metadata: { namespace: 'fleet', name: 'a-ca', labels: { 'clusterforge.dev/cluster-name': 'a' } },
        data: { 'tls.crt': Buffer.from(certs.ca.cert).toString('base64') },
      },
      // Named like b's CA but another cluster's: not b's.
      {
        metadata: { namespace: 'fleet', name: 'b-ca', labels: { 'clusterforge.dev/cluster-name': 'other' } },
        data: { 'tls.crt': Buffer.from(certs.ca.cert).toString('base64') },
      },
    ];
    const source: FleetSource = {
      clusters: storeOf(clusters),
      controlPlanes: storeOf(controlPlanes),
      deployments: storeOf(deployments),
      secrets: storeOf(secrets as (V1Secret & { metadata: object })[]),
    };
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const unexport = exportFleetMetrics(metrics.registry, source);
    const lines = (await metrics.text()).body.split('\n');

    expect(lines).toContain(
      'clusterforge_cluster_info{namespace="fleet",name="a",provider="inmemory",version="v1.33.1",phase="Ready"} 1',
    );
    expect(lines).toContain(
      'clusterforge_cluster_info{namespace="fleet",name="b",provider="inmemory",version="",phase="Provisioning"} 1',
    );
    expect(lines).toContain('clusterforge_cluster_ready{namespace="fleet",name="a"} 1');
    expect(lines).toContain('clusterforge_cluster_ready{namespace="fleet",name="b"} 0');
    for (const [state, n] of [
      ['desired', 3],
      ['ready', 2],
      ['updated', 3],
    ] as const)
      expect(lines).toContain(
        `clusterforge_cluster_controlplane_replicas{namespace="fleet",name="a",state="${state}"} ${n}`,
      );
    // b's ControlPlane is not in the cache (yet): no control-plane series rather than zeros.
    expect(
      lines.filter((l) =>
        l.startsWith('clusterforge_cluster_controlplane_replicas{namespace="fleet",name="b"'),
      ),
    ).toEqual([]);
    // Summed over a's two MachineDeployments; b's own is not counted for a.
    for (const [state, n] of [
      ['desired', 5],
      ['ready', 3],
      ['updated', 4],
    ] as const)
      expect(lines).toContain(
        `clusterforge_cluster_worker_replicas{namespace="fleet",name="a",state="${state}"} ${n}`,
      );
    expect(lines).toContain(
      'clusterforge_cluster_worker_replicas{namespace="fleet",name="b",state="desired"} 4',
    );
    expect(lines).toContain(
      `clusterforge_cluster_kubeconfig_expiry_timestamp_seconds{namespace="fleet",name="a"} ${Date.parse('2027-01-01T00:00:00Z') / 1000}`,
    );
    const caLine = lines.find((l) =>
      l.startsWith(
        'clusterforge_cluster_certificate_expiry_timestamp_seconds{namespace="fleet",name="a",certificate="ca"} ',
      ),
    );
    const caExpiry = Number(caLine?.split(' ')[1]);
    // The CA is issued for years: its expiry is well in the future, in seconds (not milliseconds).
    expect(caExpiry).toBeGreaterThan(Date.now() / 1000 + 365 * 86400);
    expect(caExpiry).toBeLessThan(Date.now() / 1000 + 100 * 365 * 86400);
    expect(lines.some((l) => l.includes('name="b"') && l.includes('expiry'))).toBe(false);

    // Cluster a deleted: it leaves the cache, and every series of it goes.
    clusters.splice(0, 1);
    let text = (await metrics.text()).body;
    expect(text).not.toContain('name="a"');
    expect(text).toContain('clusterforge_cluster_ready{namespace="fleet",name="b"} 0');

    unexport();
    text = (await metrics.text()).body;
    expect(text).not.toContain('name="b"');
  });

  it('registers the gauges once per registry, so two operators in one process share them', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const one = (name: string): FleetSource => ({
      clusters: storeOf([cluster(name, { phase: 'Ready' })]),
      controlPlanes: storeOf<ControlPlane>([]),
      deployments: storeOf<MachineDeployment>([]),
      secrets: { get: () => undefined },
    });
    exportFleetMetrics(metrics.registry, one('x'));
    exportFleetMetrics(metrics.registry, one('y'));
    const text = (await metrics.text()).body;
    expect(text).toContain('clusterforge_cluster_ready{namespace="fleet",name="x"} 0');
    expect(text).toContain('clusterforge_cluster_ready{namespace="fleet",name="y"} 0');
    expect(text.match(/^# TYPE clusterforge_cluster_ready gauge$/gm)).toHaveLength(1);
  });
});
