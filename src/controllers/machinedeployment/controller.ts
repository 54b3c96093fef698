// The MachineDeployment reconciler: keeps spec.replicas worker Machines, rolling them to a new
// version only once the control plane runs it (workers are never newer than the API server). For a
// managed provider (EKS) the pool is a managed node group: the provider scales and upgrades it, and
// there are no Machines.
import type { Logger } from 'pino';
import type { Cluster, MachineDeployment, MachineDeploymentStatus } from '../../api/v1alpha1/index.js';
import { CLUSTER_NAME_LABEL, DEPLOYMENT_NAME_LABEL, FINALIZER } from '../../api/v1alpha1/labels.js';
import { resources } from '../../kube/resources.js';
import { unsupportedVersion } from '../../provider/versions.js';
import { keyOf } from '../../runtime/object-key.js';
import { getCondition, setCondition, summarise } from '../common/conditions.js';
import { MachineOwnerReconciler } from '../common/machine-owner.js';
import { createMachine, deleteOwnedMachines, syncNodeDrainTimeout, viewsOf } from '../common/machines.js';
import { compareVersions, controlPlaneOfCluster, machinesOfDeployment } from '../common/queries.js';
import { countReplicas, machineConditions, type ReplicaCounts } from '../common/replicas.js';
import { planRollout, type RolloutPlan } from '../common/rollout.js';
import { adoptTemplate } from '../common/template-owner.js';
import { MANAGED_RESYNC_MS } from '../controlplane/managed.js';
import { type ControllerDeps, jittered, RESYNC_MS, type Result, soonest } from '../deps.js';
import { type HealthRound, healthRound, withRemediationCondition } from '../health/remediate.js';
import { missingCluster, podBlockShortfall } from './checks.js';

export class MachineDeploymentReconciler extends MachineOwnerReconciler<MachineDeployment> {
  constructor(deps: ControllerDeps) {
    super(deps, resources.MachineDeployment, deps.deployments);
  }

  protected clusterOf(md: MachineDeployment): Cluster | undefined {
    return this.deps.clusters.get(md.metadata.namespace!, md.spec.clusterName);
  }

  protected async reconcileNormal(
    md: MachineDeployment,
    cluster: Cluster | undefined,
    log: Logger,
  ): Promise<Result> {
    if (!cluster) {
      const { stalled, message } = missingCluster(md);
      return stalled
        ? this.stall(md, 'ClusterNotFound', message)
        : this.wait(md, 'WaitingForCluster', message);
    }
    await adoptTemplate(this.deps, cluster, md.spec.machineTemplateRef.name);
    const provider = this.deps.providers.for(cluster);
    const unsupported =
      provider &&
      unsupportedVersion(provider.name, provider.kubernetesVersions, 'spec.version', md.spec.version);
    if (unsupported) return this.stall(md, 'UnsupportedVersion', unsupported);
    const shortfall =
      provider?.podBlockPerNode !== undefined &&
      podBlockShortfall(this.deps, cluster, md, provider.podBlockPerNode);
    if (shortfall) return this.stall(md, 'PodBlockTooSmall', shortfall);

    // The version skew rule: a worker may not run a newer version than the control plane.
    const cpVersion = controlPlaneOfCluster(this.deps, cluster)?.status?.version;
    if (!cpVersion) return this.wait(md, 'WaitingForControlPlane', 'the control plane has no machines yet');
    const version = compareVersions(md.spec.version, cpVersion) <= 0 ? md.spec.version : cpVersion;
    const held = version !== md.spec.version ? `waiting for the control plane to run ${md.spec.version}` : '';
    if (provider && !provider.selfManagedControlPlane) return this.reconcileNodePool(md, cluster, held, log);

    const machines = machinesOfDeployment(this.deps, md);
    const templateName = md.spec.machineTemplateRef.name;
    await syncNodeDrainTimeout(this.deps, md.spec.nodeDrainTimeout, machines);
    let plan: RolloutPlan | undefined;
    let health: HealthRound | undefined;
    if (this.expectations.settled(keyOf(md), machines)) {
      health = await healthRound(this.deps, md, cluster, machines, log);
      const remediated = health?.remediated;
      const planOf = (now: typeof machines): RolloutPlan =>
        planRollout({
          replicas: md.spec.replicas,
          version,
          template: templateName,
          machines: viewsOf(now, remediated),
          maxSurge: md.spec.strategy.maxSurge,
          maxUnavailable: md.spec.strategy.maxUnavailable,
          oneAtATime: false,
        });
      plan = planOf(machines);
      for (let i = 0; i < plan.create; i++) {
        const name = await createMachine(this.deps, this.expectations, {
          owner: md,
          ownerLabel: DEPLOYMENT_NAME_LABEL,
          clusterName: md.spec.clusterName,
          role: 'Worker',
          version,
          templateName,
          nodeDrainTimeout: md.spec.nodeDrainTimeout,
          providerIDFor: provider?.providerIDFor && ((m) => provider.providerIDFor!(cluster, m)),
        });
        log.info({ machine: name, version }, 'created worker machine');
      }
      if (plan.create > 0)
        this.deps.events.normal(md, 'MachinesCreated', `created ${plan.create} worker machine(s)`);
      for (const name of plan.delete) {
        await this.deps.writer.delete(resources.Machine, md.metadata.namespace!, name);
        log.info({ machine: name }, 'deleting worker machine');
      }
      if (plan.delete.length > 0) {
        this.deps.events.normal(md, 'MachinesDeleted', `deleting ${plan.delete.join(', ')}`);
      }
      // As for a ControlPlane: the status tells what comes next, from the cache that has our writes.
      if (plan.create > 0 || plan.delete.length > 0) {
        const acted = plan;
        plan = { ...planOf(machinesOfDeployment(this.deps, md)), create: acted.create, delete: acted.delete };
      }
    }

    const status = this.status(md, version, plan, held);
    status.conditions = withRemediationCondition(status.conditions ?? [], health, md.metadata.generation);
    await this.deps.writer.writeStatus(resources.MachineDeployment, md, status);
    const acting =
      plan === undefined || plan.create > 0 || plan.delete.length > 0 || plan.waiting !== '' || held !== '';
    return soonest({ requeueAfterMs: acting ? 2_000 : jittered(RESYNC_MS) }, health?.recheck);
  }

  /** A managed node group: the provider creates, scales and upgrades it; its counts are the provider's. */
  private async reconcileNodePool(
    md: MachineDeployment,
    cluster: Cluster,
    held: string,
    log: Logger,
  ): Promise<Result> {
    const provider = this.deps.providers.for(cluster);
    if (!provider?.ensureNodePool) {
      return this.wait(md, 'NodePoolsNotSupported', 'the provider runs no managed node groups');
    }
    const templateName = md.spec.machineTemplateRef.name;
    const template = this.deps.templates.get(md.metadata.namespace!, templateName);
    if (!template)
      return this.wait(md, 'WaitingForTemplate', `MachineTemplate ${templateName} does not exist`);
    const report = await provider.ensureNodePool({ cluster, log }, md, template);
    const p = report.progress;
    const status = this.statusOf(md, report, undefined, held);
    if (p.state === 'failed') {
      if (getCondition(md.status?.conditions, 'MachinesReady')?.reason !== p.reason) {
        log.warn({ reason: p.reason, detail: p.message }, 'node group failed');
        this.deps.events.warning(md, p.reason, p.message);
      }
      status.conditions = setCondition(
        status.conditions,
        { type: 'MachinesReady', status: 'False', reason: p.reason, message: p.message },
        md.metadata.generation,
      );
      status.conditions = setCondition(
        status.conditions,
        summarise(status.conditions, ['MachinesReady', 'MachinesUpToDate']),
        md.metadata.generation,
      );
    } else if (p.state === 'inProgress') {
      status.conditions = setCondition(
        status.conditions,
        { type: 'MachinesReady', status: 'False', reason: p.reason ?? 'Reconciling', message: p.message },
        md.metadata.generation,
      );
      status.conditions = setCondition(
        status.conditions,
        summarise(status.conditions, ['MachinesReady', 'MachinesUpToDate']),
        md.metadata.generation,
      );
    }
    await this.deps.writer.writeStatus(resources.MachineDeployment, md, status);
    if (p.state === 'inProgress') return { requeueAfterMs: p.requeueAfterMs };
    if (p.state === 'failed') return { requeueAfterMs: 60_000 };
    // Held back by the control plane: look again soon, it is upgrading.
    return { requeueAfterMs: held ? 30_000 : jittered(MANAGED_RESYNC_MS) };
  }

  private status(
    md: MachineDeployment,
    version: string,
    plan: RolloutPlan | undefined,
    held: string,
  ): MachineDeploymentStatus {
    const machines = machinesOfDeployment(this.deps, md);
    const templateName = md.spec.machineTemplateRef.name;
    const counts = countReplicas(machines, md.spec.version, templateName);
    const outdated = machines.some(
      (m) => m.spec.version !== version || m.spec.machineTemplateRef.name !== templateName,
    );
    return this.statusOf(md, counts, plan, held, outdated);
  }

  /** Status from replica counts, whoever counted them (Machines, or the managed node group): pure. */
  private statusOf(
    md: MachineDeployment,
    counts: ReplicaCounts,
    plan: RolloutPlan | undefined,
    held: string,
    outdated = counts.updatedReplicas < counts.replicas,
  ): MachineDeploymentStatus {
    const gen = md.metadata.generation;
    let conditions = machineConditions(md.status?.conditions, counts, md.spec.replicas, plan, gen);
    if (held) {
      conditions = setCondition(
        conditions,
        { type: 'MachinesUpToDate', status: 'False', reason: 'WaitingForControlPlane', message: held },
        gen,
      );
    }
    conditions = setCondition(conditions, summarise(conditions, ['MachinesReady', 'MachinesUpToDate']), gen);
    const phase: MachineDeploymentStatus['phase'] =
      outdated || held
        ? 'Upgrading'
        : counts.replicas < md.spec.replicas
          ? 'ScalingUp'
          : counts.replicas > md.spec.replicas
            ? 'ScalingDown'
            : 'Running';
    return {
      replicas: counts.replicas,
      readyReplicas: counts.readyReplicas,
      updatedReplicas: counts.updatedReplicas,
      phase,
      selector: `${CLUSTER_NAME_LABEL}=${md.spec.clusterName},${DEPLOYMENT_NAME_LABEL}=${md.metadata.name}`,
      conditions,
      observedGeneration: gen ?? 0,
    };
  }

  protected async reconcileDelete(
    md: MachineDeployment,
    cluster: Cluster | undefined,
    log: Logger,
  ): Promise<Result> {
    const provider = cluster ? this.deps.providers.for(cluster) : undefined;
    if (cluster && provider?.deleteNodePool && !provider.selfManagedControlPlane) {
      const progress = await provider.deleteNodePool({ cluster, log }, md);
      if (progress.state !== 'done') {
        await this.deps.writer.writeStatus(resources.MachineDeployment, md, {
          ...md.status,
          phase: 'Deleting',
        });
        if (progress.state === 'failed') log.warn({ progress }, 'node group deletion failed');
        else log.info({ progress }, 'waiting for the node group to be deleted');
        return { requeueAfterMs: progress.state === 'inProgress' ? progress.requeueAfterMs : 30_000 };
      }
      await this.deps.writer.removeFinalizer(resources.MachineDeployment, md, FINALIZER);
      return {};
    }
    const machines = machinesOfDeployment(this.deps, md);
    const deleting = { ...md.status, phase: 'Deleting' as const };
    return deleteOwnedMachines(this.deps, resources.MachineDeployment, md, machines, deleting, log);
  }
}
