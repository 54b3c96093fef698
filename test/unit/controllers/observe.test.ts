// What the Cluster reconciler tells the lifecycle machine, from objects as the cache holds them.
import { describe, expect, it } from 'vitest';
import type { Cluster, ControlPlane, MachineDeployment } from '../../../src/api/v1alpha1/index.js';
import { observe } from '../../../src/controllers/cluster/observe.js';
import { ClusterScope } from '../../../src/controllers/cluster/scope.js';
import type { ControllerDeps } from '../../../src/controllers/deps.js';
import { deriveState } from '../../../src/lifecycle/derive.js';
import { silentLogger } from '../../../src/runtime/log.js';

const T = '2026-01-01T00:00:00Z';
const ready = [{ type: 'Ready', status: 'True' as const, lastTransitionTime: T }];

function store<T extends { metadata: { name?: string; namespace?: string } }>(items: T[]) {
  return {
    get: (ns: string, name: string) =>
      items.find((i) => i.metadata.namespace === ns && i.metadata.name === name),
    list: (ns?: string) => items.filter((i) => ns === undefined || i.metadata.namespace === ns),
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
    deployments: store([md]),
    machines: store([]),
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
