// The Cluster phase through a scale up, a scale down, a control-plane upgrade and a worker upgrade, as the
// reconciler sees them: the ControlPlane and MachineDeployment controllers are played by their own pure
// planner (planRollout), replica counting and conditions, the Machine controller by its own status
// function, machines come up and go away one tick at a time, and after every change the Cluster
// reconciler's observe(), the lifecycle step() and clusterStatus() decide the phase and the Ready
// condition. The owners' status is written a tick after the Machines change, as it is for real.
import { describe, expect, it } from 'vitest';
import type { Cluster, ControlPlane, Machine, MachineDeployment } from '../../../src/api/v1alpha1/index.js';
import {
  CLUSTER_NAME_LABEL,
  CONTROL_PLANE_NAME_LABEL,
  DEPLOYMENT_NAME_LABEL,
} from '../../../src/api/v1alpha1/labels.js';
import { observe } from '../../../src/controllers/cluster/observe.js';
import { ClusterScope } from '../../../src/controllers/cluster/scope.js';
import { clusterStatus } from '../../../src/controllers/cluster/status.js';
import { getCondition, setCondition, summarise } from '../../../src/controllers/common/conditions.js';
import { viewOf } from '../../../src/controllers/common/machines.js';
import { compareVersions, oldestVersion } from '../../../src/controllers/common/queries.js';
import { countReplicas, machineConditions } from '../../../src/controllers/common/replicas.js';
import { planRollout } from '../../../src/controllers/common/rollout.js';
import type { ControllerDeps } from '../../../src/controllers/deps.js';
import { statusFromReport } from '../../../src/controllers/machine/status.js';
import { step } from '../../../src/lifecycle/snapshot.js';
import { done, inProgress } from '../../../src/provider/contract.js';
import { silentLogger } from '../../../src/runtime/log.js';

const OLD = 'v1.30.4';
const NEW = 'v1.31.2';
const T = '2026-01-01T00:00:00Z';
const readyCondition = [{ type: 'Ready', status: 'True' as const, lastTransitionTime: T }];
const TRUE = (type: string) => ({ type, status: 'True' as const, lastTransitionTime: T });

/**
 * How machines come and go. `kubelet`: a new machine's Node registers a tick before it is Ready, as a real
 * kubelet's does (a simulated worker's Node is Ready when it appears). `drainTicks`: how many ticks a
 * machine being deleted stays (its Node drained, its instance stopped) before it is gone.
 */
interface Pace {
  kubelet?: boolean;
  drainTicks?: number;
}

/** The management cluster's objects of one cluster, as the informer caches hold them. */
class World {
  cluster: Cluster = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Cluster',
    metadata: { name: 'c', namespace: 'ns', generation: 1 },
    spec: {
      infrastructure: { inMemory: {} },
      clusterNetwork: {
        pods: { cidrBlocks: ['192.168.0.0/16'] },
        services: { cidrBlocks: ['10.96.0.0/12'] },
        serviceDomain: 'cluster.local',
      },
      controlPlaneRef: { name: 'c-cp' },
      paused: false,
    },
    status: {
      conditions: ['InfrastructureReady', 'CertificatesReady', 'KubeconfigPublished', 'Provisioned'].map(
        TRUE,
      ),
    },
  } as Cluster;
  cp: ControlPlane;
  md: MachineDeployment;
  machines: Machine[] = [];
  private serial = 0;
  private lifecycle: unknown = { schemaVersion: 1, state: 'ready', context: {} };
  /** Ticks left of each machine being deleted. */
  private readonly draining = new Map<string, number>();
  /** Every phase, state and Ready condition the Cluster reconciler wrote, in order. */
  readonly seen: { phase: string; state: string; ready: string }[] = [];

  constructor(
    cpReplicas: number,
    workers: number,
    version = OLD,
    private readonly pace: Pace = {},
  ) {
    this.cp = {
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name: 'c-cp', namespace: 'ns', generation: 1 },
      spec: {
        version,
        replicas: cpReplicas,
        machineTemplateRef: { name: 't' },
        rolloutStrategy: { maxSurge: 1 },
      },
    };
    this.md = {
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'MachineDeployment',
      metadata: { name: 'c-md', namespace: 'ns', generation: 1 },
      spec: {
        clusterName: 'c',
        replicas: workers,
        version,
        machineTemplateRef: { name: 't' },
        strategy: { maxSurge: 1, maxUnavailable: 0 },
      },
    };
    for (let i = 0; i < cpReplicas; i++) this.add('ControlPlane', version, true);
    for (let i = 0; i < workers; i++) this.add('Worker', version, true);
    this.writeOwnerStatus();
    this.reconcileCluster();
    this.seen.length = 0;
  }

  private add(role: Machine['spec']['role'], version: string, up: boolean): void {
    const owner = role === 'ControlPlane' ? this.cp : this.md;
    const label = role === 'ControlPlane' ? CONTROL_PLANE_NAME_LABEL : DEPLOYMENT_NAME_LABEL;
    const n = this.serial++;
    this.machines.push({
      apiVersion: 'clusterforge.dev/v1alpha1',
      kind: 'Machine',
      metadata: {
        name: `${owner.metadata.name}-${n}`,
        namespace: 'ns',
        labels: { [CLUSTER_NAME_LABEL]: 'c', [label]: owner.metadata.name! },
        creationTimestamp: new Date(Date.parse(T) + n * 1000).toISOString(),
      },
      spec: { clusterName: 'c', role, version, machineTemplateRef: { name: 't' } },
      status: up
        ? { phase: 'Running', nodeRef: { name: `node-${n}` }, conditions: readyCondition }
        : { phase: 'Provisioning' },
    });
  }

  /** What the user does with kubectl: a spec change, which bumps the generation. */
  edit(change: { cpVersion?: string; cpReplicas?: number; workerVersion?: string; workers?: number }): void {
    const cp = structuredClone(this.cp);
    const md = structuredClone(this.md);
    if (change.cpVersion) cp.spec.version = change.cpVersion;
    if (change.cpReplicas !== undefined) cp.spec.replicas = change.cpReplicas;
    if (change.workerVersion) md.spec.version = change.workerVersion;
    if (change.workers !== undefined) md.spec.replicas = change.workers;
    if (JSON.stringify(cp.spec) !== JSON.stringify(this.cp.spec)) cp.metadata.generation! += 1;
    if (JSON.stringify(md.spec) !== JSON.stringify(this.md.spec)) md.metadata.generation! += 1;
    this.cp = cp;
    this.md = md;
    this.reconcileCluster();
  }

  /** One pass of the ControlPlane and MachineDeployment controllers: create or delete, then write status. */
  private reconcileOwners(): void {
    const cpPlan = planRollout({
      replicas: this.cp.spec.replicas,
      version: this.cp.spec.version,
      template: 't',
      machines: this.of('ControlPlane').map(viewOf),
      maxSurge: 1,
      maxUnavailable: 0,
      oneAtATime: true,
    });
    this.act('ControlPlane', this.cp.spec.version, cpPlan.create, cpPlan.delete);
    this.writeOwnerStatus();
    // The skew rule: workers never run a newer version than the control plane.
    const cpVersion = this.cp.status!.version!;
    const version = compareVersions(this.md.spec.version, cpVersion) <= 0 ? this.md.spec.version : cpVersion;
    const mdPlan = planRollout({
      replicas: this.md.spec.replicas,
      version,
      template: 't',
      machines: this.of('Worker').map(viewOf),
      maxSurge: 1,
      maxUnavailable: 0,
      oneAtATime: false,
    });
    this.act('Worker', version, mdPlan.create, mdPlan.delete);
    this.writeOwnerStatus();
  }

  private act(role: Machine['spec']['role'], version: string, create: number, del: string[]): void {
    for (let i = 0; i < create; i++) this.add(role, version, false);
    for (const name of del) if (!this.draining.has(name)) this.draining.set(name, this.pace.drainTicks ?? 0);
    this.machines = this.machines.map((m) =>
      del.includes(m.metadata.name!) ? { ...m, metadata: { ...m.metadata, deletionTimestamp: T } } : m,
    );
    if (create > 0 || del.length > 0) this.reconcileCluster();
  }

  private of(role: Machine['spec']['role']): Machine[] {
    return this.machines.filter((m) => m.spec.role === role);
  }

  /** What the owners' controllers write: the counts and conditions (replicas.ts) of their Machines. */
  private writeOwnerStatus(): void {
    const cpMachines = this.of('ControlPlane');
    const live = cpMachines.filter((m) => !m.metadata.deletionTimestamp);
    const cpCounts = countReplicas(cpMachines, this.cp.spec.version, 't');
    this.cp = {
      ...this.cp,
      status: {
        ...cpCounts,
        initialized: true,
        observedGeneration: this.cp.metadata.generation!,
        version: oldestVersion(live) ?? OLD,
        conditions: ownerConditions(this.cp, cpCounts),
      },
    };
    const mdCounts = countReplicas(this.of('Worker'), this.md.spec.version, 't');
    this.md = {
      ...this.md,
      status: {
        ...mdCounts,
        observedGeneration: this.md.metadata.generation!,
        conditions: ownerConditions(this.md, mdCounts),
      },
    };
  }

  /**
   * The providers' work, reported through the Machine controller's status function: machines being
   * deleted go once drained, new ones get their Node (Ready at once, or a tick later for a kubelet).
   */
  private advanceMachines(): boolean {
    const before = JSON.stringify(this.machines);
    let drained = false;
    this.machines = this.machines
      .filter((m) => {
        const left = this.draining.get(m.metadata.name!);
        if (left === undefined) return true;
        if (left > 0) this.draining.set(m.metadata.name!, left - 1);
        drained = true;
        return left > 0;
      })
      .map((m) => {
        if (m.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) return m;
        const nodeName = m.metadata.name!;
        const registered = this.pace.kubelet && !m.status?.nodeRef;
        const report = registered
          ? { progress: inProgress('waiting for the Node to be Ready'), ready: false, nodeName }
          : { progress: done(), ready: true, nodeName };
        return { ...m, status: statusFromReport(m, { ...report, providerID: `local://${nodeName}` }) };
      });
    return drained || JSON.stringify(this.machines) !== before;
  }

  /** Every controller until nothing moves; the Cluster reconciler looks after each change. */
  settle(): void {
    for (let i = 0; i < 100; i++) {
      this.reconcileOwners();
      const moved = this.advanceMachines();
      this.reconcileCluster();
      this.writeOwnerStatus();
      this.reconcileCluster();
      if (!moved) return;
    }
    throw new Error('the world never settled');
  }

  /** The Cluster reconciler: observe, step, record the phase it writes. */
  private reconcileCluster(): void {
    const deps = {
      machines: { byIndex: () => this.machines },
      deployments: { byIndex: () => [this.md] },
      controlPlanes: { get: () => this.cp },
    } as unknown as ControllerDeps;
    const scope = new ClusterScope(
      this.cluster,
      { name: 'inmemory', selfManagedControlPlane: true } as never,
      deps,
      silentLogger(),
    );
    const result = step(this.lifecycle, observe(scope));
    this.lifecycle = result.persisted;
    const status = clusterStatus(scope, result, true);
    this.cluster = { ...this.cluster, status };
    const ready = getCondition(status.conditions, 'Ready');
    this.seen.push({ phase: result.phase, state: result.state, ready: `${ready?.status} ${ready?.message}` });
  }

  /** The machine's Node goes NotReady (its kubelet stopped): the provider reports it so. */
  loseNode(name: string): void {
    this.machines = this.machines.map((m) =>
      m.metadata.name === name
        ? {
            ...m,
            status: statusFromReport(m, {
              progress: inProgress('waiting for the Node to be Ready'),
              ready: false,
              nodeName: name,
            }),
          }
        : m,
    );
    this.reconcileCluster();
  }

  /** Every time the phase said Ready while the Ready condition did not. */
  readyLies(): string[] {
    return this.seen.filter((s) => s.phase === 'Ready' && !s.ready.startsWith('True')).map((s) => s.ready);
  }

  /** The phases in order, each change once. */
  phases(): string[] {
    return this.seen.map((s) => s.phase).filter((p, i, all) => i === 0 || all[i - 1] !== p);
  }

  states(): string[] {
    return this.seen.map((s) => s.state).filter((p, i, all) => i === 0 || all[i - 1] !== p);
  }
}

/** MachinesReady, MachinesUpToDate and Ready, as the ControlPlane and MachineDeployment controllers write them. */
function ownerConditions(owner: ControlPlane | MachineDeployment, counts: ReturnType<typeof countReplicas>) {
  const gen = owner.metadata.generation;
  const conditions = machineConditions(owner.status?.conditions, counts, owner.spec.replicas, undefined, gen);
  return setCondition(conditions, summarise(conditions, ['MachinesReady', 'MachinesUpToDate']), gen);
}

describe('the Cluster phase, as the reconciler derives it', () => {
  it.each([
    ['scale up the workers 2 -> 4', 1, 2, { workers: 4 }],
    ['scale down the workers 4 -> 1', 1, 4, { workers: 1 }],
    ['scale up the control plane 1 -> 3', 1, 2, { cpReplicas: 3 }],
    ['scale down the control plane 3 -> 1', 3, 2, { cpReplicas: 1 }],
  ] as const)('%s: Scaling, then Ready', (_, cpReplicas, workers, change) => {
    const w = new World(cpReplicas, workers);
    w.edit(change);
    w.settle();
    expect(w.phases()).toEqual(['Scaling', 'Ready']);
    expect(w.readyLies()).toEqual([]);
    expect(w.machines.filter((m) => m.spec.role === 'Worker')).toHaveLength(w.md.spec.replicas);
    expect(w.machines.filter((m) => m.spec.role === 'ControlPlane')).toHaveLength(w.cp.spec.replicas);
  });

  // As `kubectl get -w` showed them with kubelet workers: a scale-up read Scaling -> Provisioning -> Ready
  // (a new Node registered but not Ready counted as there), and Ready came while the Ready condition was
  // still False (the MachineDeployment's status is written after its Machines change).
  it.each([
    ['a kubelet scale-up 2 -> 3 (a Node NotReady for a tick)', 1, 2, { workers: 3 }, { kubelet: true }],
    ['a kubelet scale-up 1 -> 4', 1, 1, { workers: 4 }, { kubelet: true }],
    ['a scale-down 3 -> 1 whose machines drain for 2 ticks', 1, 3, { workers: 1 }, { drainTicks: 2 }],
    ['a kubelet scale-down 3 -> 1 with a drain', 1, 3, { workers: 1 }, { kubelet: true, drainTicks: 1 }],
    ['a kubelet control-plane scale-up 1 -> 3', 1, 2, { cpReplicas: 3 }, { kubelet: true }],
    ['a control-plane scale-down 3 -> 1 with a drain', 3, 2, { cpReplicas: 1 }, { drainTicks: 1 }],
  ] as const)('%s: Scaling, then Ready, and Ready only with Ready=True', (_, cp, workers, change, pace) => {
    const w = new World(cp, workers, OLD, pace);
    w.edit(change);
    w.settle();
    expect(w.phases()).toEqual(['Scaling', 'Ready']);
    expect(w.readyLies()).toEqual([]);
    expect(w.seen.at(-1)?.ready).toMatch(/^True/);
    expect(w.machines.filter((m) => m.spec.role === 'Worker')).toHaveLength(w.md.spec.replicas);
  });

  it('a worker that was Ready and lost its Node is not a scale: Provisioning, then Ready again', () => {
    const w = new World(1, 2, OLD, { kubelet: true });
    w.loseNode(w.machines.find((m) => m.spec.role === 'Worker')!.metadata.name!);
    w.settle();
    expect(w.phases()).toEqual(['Provisioning', 'Ready']);
    expect(w.readyLies()).toEqual([]);
  });

  it.each([
    ['1 control-plane machine', 1],
    ['3 control-plane machines', 3],
  ] as const)(
    'a control-plane and worker upgrade with %s is Upgrading from its first machine to its last',
    (_, cpReplicas) => {
      const w = new World(cpReplicas, 3);
      w.edit({ cpVersion: NEW, workerVersion: NEW });
      w.settle();
      expect(w.phases()).toEqual(['Upgrading', 'Ready']);
      expect(w.states()).toEqual(['upgrading.controlPlane', 'upgrading.workers', 'ready']);
      expect(w.readyLies()).toEqual([]);
      expect(w.machines.every((m) => m.spec.version === NEW)).toBe(true);
    },
  );

  it('a control-plane upgrade alone is Upgrading until its last old member is gone', () => {
    const w = new World(3, 2);
    w.edit({ cpVersion: NEW });
    w.settle();
    expect(w.states()).toEqual(['upgrading.controlPlane', 'ready']);
    expect(
      w.machines.filter((m) => m.spec.role === 'ControlPlane').every((m) => m.spec.version === NEW),
    ).toBe(true);
  });

  it('a worker upgrade (the control plane already there) is Upgrading, then Ready', () => {
    const w = new World(1, 3);
    w.edit({ cpVersion: NEW });
    w.settle();
    w.seen.length = 0;
    w.edit({ workerVersion: NEW });
    w.settle();
    expect(w.states()).toEqual(['upgrading.workers', 'ready']);
    expect(w.readyLies()).toEqual([]);
  });
});
