// What the Cluster reconciler tells the lifecycle machine, from objects as the cache holds them.
import { describe, expect, it } from 'vitest';
import type { Cluster, ControlPlane, Machine, MachineDeployment } from '../../../src/api/v1alpha1/index.js';
import { observe } from '../../../src/controllers/cluster/observe.js';
import { ClusterScope } from '../../../src/controllers/cluster/scope.js';
import { DEPLOYMENT_INDEXES, MACHINE_INDEXES } from '../../../src/controllers/common/indexes.js';
import type { Store } from '../../../src/controllers/common/store.js';
import type { ControllerDeps } from '../../../src/controllers/deps.js';
import { deriveState } from '../../../src/lifecycle/derive.js';
import {
  IndexedStore,
  type IndexFunc,
  NAMESPACE_INDEX,
  namespacedValue,
} from '../../../src/runtime/indexer.js';
import { silentLogger } from '../../../src/runtime/log.js';
import type { KubeObject } from '../../../src/runtime/object-key.js';

const T = '2026-01-01T00:00:00Z';
const ready = [{ type: 'Ready', status: 'True' as const, lastTransitionTime: T }];

/** A Store over the runtime's own indexed cache, with the indexes the operator registers. */
function store<T extends KubeObject & { metadata: { name?: string; namespace?: string } }>(
  items: T[],
  indexes: Record<string, IndexFunc<T>> = {},
): Store<T> {
  const cache = new IndexedStore<T>();
  for (const [name, fn] of Object.entries(indexes)) cache.addIndex(name, fn);
  for (const item of items) cache.set(`${item.metadata.namespace}/${item.metadata.name}`, item);
  return {
    get: (ns, name) => cache.get(`${ns}/${name}`),
    list: (ns) =>
      ns === undefined ? [...cache.entries()].map(([, o]) => o) : cache.byIndex(NAMESPACE_INDEX, ns),
    byIndex: (index, ns, value) => cache.byIndex(index, namespacedValue(ns, value)),
  };
}

function scopeWith(provisioned: boolean, poolStatusReplicas: number): ClusterScope {
  const cluster: Cluster = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c', namespace: 'ns', generation: 1 },
    spec: {
      infrastructure: { local: { bindAddress: '127.0.0.1' } },
      clusterNetwork: {
        pods: { cidrBlocks: ['192.168.0.0/16'] },
        services: { cidrBlocks: ['10.96.0.0/12'] },
        serviceDomain: 'cluster.local',
      },
      controlPlaneRef: { name: 'c-cp' },
      paused: false,
    },
    status: {
      conditions: [
        { type: 'InfrastructureReady', status: 'True', lastTransitionTime: T },
        ...(provisioned ? [{ type: 'Provisioned', status: 'True' as const, lastTransitionTime: T }] : []),
      ],
    },
  };
  const cp: ControlPlane = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'ControlPlane',
    metadata: { name: 'c-cp', namespace: 'ns', generation: 1 },
    spec: {
      version: 'v1.37.2',
      replicas: 1,
      machineTemplateRef: { name: 't' },
      rolloutStrategy: { maxSurge: 1 },
    },
    status: {
      replicas: 1,
      readyReplicas: 1,
      updatedReplicas: 1,
      version: 'v1.37.2',
      initialized: true,
      conditions: ready,
      observedGeneration: 1,
    },
  };
  const md: MachineDeployment = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'MachineDeployment',
    metadata: { name: 'c-md', namespace: 'ns', generation: 1 },
    spec: {
      clusterName: 'c',
      replicas: 2,
      version: 'v1.37.2',
      machineTemplateRef: { name: 't' },
      strategy: { maxSurge: 1, maxUnavailable: 0 },
    },
    status: {
      replicas: poolStatusReplicas,
      readyReplicas: 0,
      updatedReplicas: poolStatusReplicas,
      observedGeneration: 1,
    },
  };
  const deps = {
    clusters: store([cluster]),
    controlPlanes: store([cp]),
    deployments: store([md as MachineDeployment & KubeObject], DEPLOYMENT_INDEXES),
    machines: store<Machine & KubeObject>([], MACHINE_INDEXES),
    templates: store([]),
  } as unknown as ControllerDeps;
  return new ClusterScope(
    cluster,
    { name: 'local', selfManagedControlPlane: true } as never,
    deps,
    silentLogger(),
  );
}

describe('observe', () => {
  it('reads missing workers of a cluster never Ready as provisioning, not scaling', () => {
    const world = observe(scopeWith(false, 0));
    expect(world.replicasMatch).toBe(true);
    expect(deriveState(world)).toBe('provisioningWorkers');
  });

  it('reads missing workers of a cluster that was Ready as scaling', () => {
    const world = observe(scopeWith(true, 0));
    expect(world.replicasMatch).toBe(false);
    expect(deriveState(world)).toBe('scaling');
  });
});
