// The Machine reconciler: one machine through its provider, from creation to deletion.
import type { Logger } from 'pino';
import type { Cluster, Machine } from '../../api/v1alpha1/index.js';
import { FINALIZER } from '../../api/v1alpha1/labels.js';
import { resources } from '../../kube/resources.js';
import type { MachineContext } from '../../provider/contract.js';
import { isTrue } from '../common/conditions.js';
import { isPaused } from '../common/paused.js';
import { controlPlaneOfCluster, machinesOfCluster } from '../common/queries.js';
import { type ControllerDeps, jittered, RESYNC_MS, type Result } from '../deps.js';
import { drainBeforeDelete } from './drain-step.js';
import { statusFromReport, waitingStatus } from './status.js';

export class MachineReconciler {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile(key: { namespace: string; name: string }, log: Logger): Promise<Result> {
    const machine = this.deps.machines.get(key.namespace, key.name);
    if (!machine) return {};
    const cluster = this.deps.clusters.get(key.namespace, machine.spec.clusterName);
    if (cluster && isPaused(cluster)) return {};
    if (machine.metadata.deletionTimestamp) return this.reconcileDelete(machine, cluster, log);
    if (await this.deps.writer.addFinalizer(resources.Machine, machine, FINALIZER)) return {};

    if (!cluster)
      return this.wait(machine, 'WaitingForCluster', `Cluster ${machine.spec.clusterName} does not exist`);
    const ctx = await this.context(machine, cluster, log);
    if ('waiting' in ctx) return this.wait(machine, ctx.reason, ctx.waiting);

    const report = await ctx.provider.ensureMachine(ctx.ctx);
    if (report.providerID && !machine.spec.providerID) {
      await this.deps.writer.patch(resources.Machine, key.namespace, key.name, {
        spec: { providerID: report.providerID },
      });
    }
    // Conditional: the owner's health check writes this Machine's conditions too.
    await this.deps.writer.writeStatusIfUnchanged(
      resources.Machine,
      machine,
      statusFromReport(machine, report),
    );
    if (report.progress.state === 'inProgress') return { requeueAfterMs: report.progress.requeueAfterMs };
    if (report.progress.state === 'failed') {
      const { reason, message } = report.progress;
      // Once per reason: the machine is looked at again every 30 s while it stays failed.
      if (machine.status?.failureReason !== reason) log.warn({ reason, detail: message }, 'machine failed');
      this.deps.events.warning(machine, reason, message);
      return { requeueAfterMs: 30_000 };
    }
    return { requeueAfterMs: report.ready ? jittered(RESYNC_MS) : 2_000 };
  }

  private async context(
    machine: Machine,
    cluster: Cluster,
    log: Logger,
  ): Promise<
    | { ctx: MachineContext; provider: NonNullable<ReturnType<ControllerDeps['providers']['for']>> }
    | { waiting: string; reason: string }
  > {
    const provider = this.deps.providers.for(cluster);
    if (!provider)
      return { reason: 'ProviderNotEnabled', waiting: 'the operator was started without this provider' };
    const template = this.deps.templates.get(
      machine.metadata.namespace!,
      machine.spec.machineTemplateRef.name,
    );
    if (!template) {
      return {
        reason: 'WaitingForTemplate',
        waiting: `MachineTemplate ${machine.spec.machineTemplateRef.name} does not exist`,
      };
    }
    if (!isTrue(cluster.status?.conditions, 'InfrastructureReady')) {
      return { reason: 'WaitingForInfrastructure', waiting: 'the cluster infrastructure is not ready yet' };
    }
    if (machine.spec.role === 'Worker') {
      const cp = controlPlaneOfCluster(this.deps, cluster);
      if (!cp?.status?.initialized) {
        return { reason: 'WaitingForControlPlane', waiting: 'the control plane does not serve the API yet' };
      }
    }
    const certificates = provider.selfManagedControlPlane
      ? await this.deps.certificates.load(cluster)
      : undefined;
    if (provider.selfManagedControlPlane && !certificates) {
      return { reason: 'WaitingForCertificates', waiting: 'the cluster certificates do not exist yet' };
    }
    const peers = machinesOfCluster(this.deps, cluster).filter(
      (m) => m.spec.role === machine.spec.role && m.metadata.name !== machine.metadata.name,
    );
    const ctx: MachineContext = {
      cluster,
      log,
      machine,
      template,
      peers,
      ...(certificates ? { certificates } : {}),
      ...(cluster.status?.controlPlaneEndpoint ? { endpoint: cluster.status.controlPlaneEndpoint } : {}),
    };
    return { ctx, provider };
  }

  private async reconcileDelete(
    machine: Machine,
    cluster: Cluster | undefined,
    log: Logger,
  ): Promise<Result> {
    if (!machine.metadata.finalizers?.includes(FINALIZER)) return {};
    if (machine.status?.phase !== 'Deleting') {
      await this.deps.writer.writeStatusIfUnchanged(resources.Machine, machine, {
        ...machine.status,
        phase: 'Deleting',
      });
    }
    const provider = cluster && this.deps.providers.for(cluster);
    if (cluster && provider) {
      const template = this.deps.templates.get(
        machine.metadata.namespace!,
        machine.spec.machineTemplateRef.name,
      );
      const certificates = provider.selfManagedControlPlane
        ? await this.deps.certificates.load(cluster)
        : undefined;
      const peers = machinesOfCluster(this.deps, cluster).filter(
        (m) => m.spec.role === machine.spec.role && m.metadata.name !== machine.metadata.name,
      );
      const ctx: MachineContext = {
        cluster,
        log,
        machine,
        // A deleted template does not stop a delete: the provider finds its resources by the machine.
        template: template ?? {
          apiVersion: 'clusterforge.dev/v1alpha1',
          kind: 'MachineTemplate',
          metadata: {},
          spec: { template: { spec: {} } },
        },
        peers,
        ...(certificates ? { certificates } : {}),
        ...(cluster.status?.controlPlaneEndpoint ? { endpoint: cluster.status.controlPlaneEndpoint } : {}),
      };
      const draining = await drainBeforeDelete(this.deps, provider, ctx, log);
      if (draining) return draining;
      const progress = await provider.deleteMachine(ctx);
      if (progress.state === 'inProgress') return { requeueAfterMs: progress.requeueAfterMs };
      if (progress.state === 'failed') {
        if (machine.status?.failureReason !== progress.reason)
          log.warn({ reason: progress.reason, detail: progress.message }, 'machine deletion failed');
        await this.deps.writer.writeStatusIfUnchanged(resources.Machine, machine, {
          ...machine.status,
          phase: 'Deleting',
          failureReason: progress.reason,
          failureMessage: progress.message,
        });
        this.deps.events.warning(machine, progress.reason, progress.message);
        return { requeueAfterMs: 15_000 };
      }
    } else {
      log.warn(
        { cluster: machine.spec.clusterName },
        'cluster or provider gone; releasing the machine without a provider call',
      );
    }
    // The copy our status write left in the cache: the one read at the start has an older
    // resourceVersion, and the finalizer patch would be refused with a conflict (one retry per machine).
    const latest = this.deps.machines.get(machine.metadata.namespace!, machine.metadata.name!) ?? machine;
    await this.deps.writer.removeFinalizer(resources.Machine, latest, FINALIZER);
    this.deps.events.normal(machine, 'Deleted', 'machine deleted');
    return {};
  }

  private async wait(machine: Machine, reason: string, message: string): Promise<Result> {
    await this.deps.writer.writeStatusIfUnchanged(
      resources.Machine,
      machine,
      waitingStatus(machine, reason, message),
    );
    return { requeueAfterMs: 5_000 };
  }
}
