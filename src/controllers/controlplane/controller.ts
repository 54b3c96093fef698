// The ControlPlane reconciler: keeps spec.replicas control-plane Machines at spec.version, changing
// one machine at a time so that etcd never loses quorum. A managed control plane (EKS) has no
// Machines: the provider runs it (managed.ts).
import type { Logger } from 'pino';
import type { Cluster, ControlPlane, ControlPlaneStatus } from '../../api/v1alpha1/index.js';
import { CLUSTER_NAME_LABEL, CONTROL_PLANE_NAME_LABEL, FINALIZER } from '../../api/v1alpha1/labels.js';
import { resources } from '../../kube/resources.js';
import { unsupportedVersion } from '../../provider/versions.js';
import { keyOf } from '../../runtime/object-key.js';
import {
  conditionOf,
  getCondition,
  isTrue,
  notReady,
  setCondition,
  summarise,
} from '../common/conditions.js';
import { MachineOwnerReconciler } from '../common/machine-owner.js';
import { createMachine, deleteOwnedMachines, syncNodeDrainTimeout, viewsOf } from '../common/machines.js';
import { clusterOfControlPlane, machinesOfControlPlane, oldestVersion } from '../common/queries.js';
import { countReplicas, machineConditions } from '../common/replicas.js';
import { planRollout, type RolloutPlan } from '../common/rollout.js';
import { adoptTemplate } from '../common/template-owner.js';
import { type ControllerDeps, jittered, RESYNC_MS, type Result, soonest } from '../deps.js';
import { type HealthRound, healthRound, withRemediationCondition } from '../health/remediate.js';
import { MANAGED_RESYNC_MS, managedControlPlaneStatus } from './managed.js';

export class ControlPlaneReconciler extends MachineOwnerReconciler<ControlPlane> {
  constructor(deps: ControllerDeps) {
    super(deps, resources.ControlPlane, deps.controlPlanes);
  }

  protected clusterOf(cp: ControlPlane): Cluster | undefined {
    return clusterOfControlPlane(this.deps, cp);
  }

  protected async reconcileNormal(
    cp: ControlPlane,
    cluster: Cluster | undefined,
    log: Logger,
  ): Promise<Result> {
    if (!cluster)
      return this.wait(cp, 'WaitingForCluster', 'no Cluster names this ControlPlane in spec.controlPlaneRef');
    const provider = this.deps.providers.for(cluster);
    if (!provider)
      return this.wait(cp, 'ProviderNotEnabled', "this operator does not run the cluster's provider");
    const unsupported = unsupportedVersion(
      provider.name,
      provider.kubernetesVersions,
      'spec.version',
      cp.spec.version,
    );
    if (unsupported) return this.stall(cp, 'UnsupportedVersion', unsupported);
    const templateName = cp.spec.machineTemplateRef?.name;
    // Said before any wait for infrastructure: the CRD cannot know the provider, and the field cannot
    // be added later (a control plane does not switch between managed and self-managed).
    if (provider.selfManagedControlPlane && templateName === undefined) {
      return this.stall(
        cp,
        'MachineTemplateRequired',
        `the ${provider.name} provider runs the control plane as machines, and spec.machineTemplateRef cannot be added to an existing ControlPlane: delete this ControlPlane and create it again with spec.machineTemplateRef naming a MachineTemplate`,
      );
    }
    if (templateName !== undefined) await adoptTemplate(this.deps, cluster, templateName);
    if (!isTrue(cluster.status?.conditions, 'InfrastructureReady')) {
      return this.wait(cp, 'WaitingForInfrastructure', 'the cluster infrastructure is not ready yet');
    }
    if (!provider.selfManagedControlPlane || templateName === undefined) {
      return this.reconcileManaged(cp, cluster, log);
    }
    if (!isTrue(cluster.status?.conditions, 'CertificatesReady')) {
      return this.wait(cp, 'WaitingForCertificates', 'the cluster certificates do not exist yet');
    }
    const machines = machinesOfControlPlane(this.deps, cp);

    await syncNodeDrainTimeout(this.deps, cp.spec.nodeDrainTimeout, machines);
    let plan: RolloutPlan | undefined;
    let health: HealthRound | undefined;
    if (this.expectations.settled(keyOf(cp), machines)) {
      health = await healthRound(this.deps, cp, cluster, machines, log);
      const remediated = health?.remediated;
      const planOf = (now: typeof machines): RolloutPlan =>
        planRollout({
          replicas: cp.spec.replicas,
          version: cp.spec.version,
          template: templateName,
          machines: viewsOf(now, remediated),
          maxSurge: cp.spec.rolloutStrategy.maxSurge,
          maxUnavailable: 0,
          oneAtATime: true,
        });
      plan = planOf(machines);
      for (let i = 0; i < plan.create; i++) {
        const name = await createMachine(this.deps, this.expectations, {
          owner: cp,
          ownerLabel: CONTROL_PLANE_NAME_LABEL,
          clusterName: cluster.metadata.name!,
          role: 'ControlPlane',
          version: cp.spec.version,
          templateName,
          nodeDrainTimeout: cp.spec.nodeDrainTimeout,
          providerIDFor: provider.providerIDFor && ((m) => provider.providerIDFor!(cluster, m)),
        });
        log.info({ machine: name, version: cp.spec.version }, 'created control-plane machine');
        this.deps.events.normal(cp, 'MachineCreated', `created control-plane machine ${name}`);
      }
      for (const name of plan.delete) {
        await this.deps.writer.delete(resources.Machine, cp.metadata.namespace!, name);
        log.info({ machine: name }, 'deleting control-plane machine');
        this.deps.events.normal(cp, 'MachineDeleted', `deleting control-plane machine ${name}`);
      }
      // The status tells what comes next (the cache has our writes already), so the next reconcile
      // has nothing new to write about the machine just created or deleted.
      if (plan.create > 0 || plan.delete.length > 0) {
        const acted = plan;
        plan = {
          ...planOf(machinesOfControlPlane(this.deps, cp)),
          create: acted.create,
          delete: acted.delete,
        };
      }
    }

    const status = this.status(cp, cluster.metadata.name!, templateName, plan);
    status.conditions = withRemediationCondition(status.conditions ?? [], health, cp.metadata.generation);
    await this.deps.writer.writeStatus(resources.ControlPlane, cp, status);
    const acting = plan === undefined || plan.create > 0 || plan.delete.length > 0 || plan.waiting !== '';
    return soonest({ requeueAfterMs: acting ? 2_000 : jittered(RESYNC_MS) }, health?.recheck);
  }

  private status(cp: ControlPlane, clusterName: string, templateName: string, plan: RolloutPlan | undefined) {
    const machines = machinesOfControlPlane(this.deps, cp);
    const counts = countReplicas(machines, cp.spec.version, templateName);
    const gen = cp.metadata.generation;
    const initialized = cp.status?.initialized === true || counts.readyReplicas > 0;
    let conditions = machineConditions(cp.status?.conditions, counts, cp.spec.replicas, plan, gen);
    conditions = setCondition(
      conditions,
      conditionOf('Available', initialized, 'Initialized', {
        reason: 'WaitingForFirstMachine',
        message: 'no control-plane machine serves yet',
      }),
      gen,
    );
    conditions = setCondition(
      conditions,
      summarise(conditions, ['Available', 'MachinesReady', 'MachinesUpToDate']),
      gen,
    );
    const version = oldestVersion(machines.filter((m) => !m.metadata.deletionTimestamp));
    const status: ControlPlaneStatus = {
      ...counts,
      selector: `${CLUSTER_NAME_LABEL}=${clusterName},${CONTROL_PLANE_NAME_LABEL}=${cp.metadata.name}`,
      initialized,
      conditions,
      observedGeneration: gen ?? 0,
      ...(version ? { version } : {}),
    };
    return status;
  }

  /** A managed control plane: the provider creates, upgrades and reports it. */
  private async reconcileManaged(cp: ControlPlane, cluster: Cluster, log: Logger): Promise<Result> {
    const provider = this.deps.providers.for(cluster);
    if (!provider?.ensureManagedControlPlane) {
      return this.wait(cp, 'ManagedControlPlaneNotSupported', 'the provider runs no managed control plane');
    }
    const report = await provider.ensureManagedControlPlane({ cluster, log }, cp);
    const status = managedControlPlaneStatus(cp, cluster.metadata.name!, report);
    if (!cp.status?.initialized && status.initialized) {
      log.info({ version: status.version }, 'managed control plane is serving');
      this.deps.events.normal(cp, 'Initialized', 'the managed control plane serves the API');
    }
    if (
      report.progress.state === 'failed' &&
      getCondition(cp.status?.conditions, 'Ready')?.reason !== report.progress.reason
    ) {
      log.warn(
        { reason: report.progress.reason, detail: report.progress.message },
        'managed control plane failed',
      );
      this.deps.events.warning(cp, report.progress.reason, report.progress.message);
    }
    await this.deps.writer.writeStatus(resources.ControlPlane, cp, status);
    const p = report.progress;
    return {
      requeueAfterMs:
        p.state === 'inProgress'
          ? p.requeueAfterMs
          : p.state === 'failed'
            ? 60_000
            : jittered(MANAGED_RESYNC_MS),
    };
  }

  /** Deleting a managed control plane: the provider deletes it (its node groups first), watched to the end. */
  private async reconcileManagedDelete(cp: ControlPlane, cluster: Cluster, log: Logger): Promise<Result> {
    const provider = this.deps.providers.for(cluster);
    const progress = provider?.deleteManagedControlPlane
      ? await provider.deleteManagedControlPlane({ cluster, log }, cp)
      : ({ state: 'done' } as const);
    if (progress.state !== 'done') {
      const message =
        progress.state === 'failed' ? `${progress.reason}: ${progress.message}` : progress.message;
      await this.deps.writer.writeStatus(resources.ControlPlane, cp, {
        ...cp.status,
        conditions: notReady(cp, 'Deleting', message),
      });
      if (progress.state === 'failed')
        log.warn(
          { reason: progress.reason, detail: progress.message },
          'managed control plane deletion failed',
        );
      else log.info({ waitingFor: message }, 'waiting for the managed control plane to be deleted');
      return { requeueAfterMs: progress.state === 'inProgress' ? progress.requeueAfterMs : 30_000 };
    }
    await this.deps.writer.removeFinalizer(resources.ControlPlane, cp, FINALIZER);
    return {};
  }

  protected async reconcileDelete(
    cp: ControlPlane,
    cluster: Cluster | undefined,
    log: Logger,
  ): Promise<Result> {
    const provider = cluster ? this.deps.providers.for(cluster) : undefined;
    if (cluster && provider && !provider.selfManagedControlPlane) {
      return this.reconcileManagedDelete(cp, cluster, log);
    }
    const machines = machinesOfControlPlane(this.deps, cp);
    const deleting = {
      ...cp.status,
      conditions: notReady(cp, 'Deleting', `waiting for ${machines.length} machine(s) to be deleted`),
    };
    return deleteOwnedMachines(this.deps, resources.ControlPlane, cp, machines, deleting, log);
  }
}
