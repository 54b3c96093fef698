// What one reconcile of a Cluster learned: the objects it read and what each task found.
// Status is computed from this alone.
import type { Logger } from 'pino';
import type { Cluster, ControlPlane, Machine, MachineDeployment } from '../../api/v1alpha1/index.js';
import type { ClusterCertificates, InfrastructureProvider, Progress } from '../../provider/contract.js';
import type { PublishOutcome } from '../../publish/publisher.js';
import { controlPlaneOfCluster, deploymentsOfCluster, machinesOfCluster } from '../common/queries.js';
import type { ControllerDeps } from '../deps.js';

export interface TaskOutcome {
  progress: Progress;
}

export class ClusterScope {
  readonly controlPlane: ControlPlane | undefined;
  readonly deployments: MachineDeployment[];
  readonly machines: Machine[];
  infrastructure?: TaskOutcome & { endpoint?: { host: string; port: number } };
  certificates?: ClusterCertificates;
  certificatesError?: string;
  kubeconfig?: TaskOutcome;
  /** What each publisher of spec.publish did, by its condition type. */
  publications = new Map<string, PublishOutcome>();
  /** What blocks a deletion, for the Deleting condition. */
  deletion?: { step: string; waitingFor: string };
  infrastructureDeleted = false;
  requeues: number[] = [];

  constructor(
    readonly cluster: Cluster,
    readonly provider: InfrastructureProvider,
    readonly deps: ControllerDeps,
    readonly log: Logger,
  ) {
    this.controlPlane = controlPlaneOfCluster(deps, cluster);
    this.deployments = deploymentsOfCluster(deps, cluster);
    this.machines = machinesOfCluster(deps, cluster);
  }

  requeueAfter(ms: number): void {
    this.requeues.push(ms);
  }

  /**
   * A provider call that failed, here or on a machine, as the lifecycle's failure observation. It
   * lasts as long as the world says so: fixing the spec (or the world) clears it.
   */
  failure(): { reason: string; message: string } | undefined {
    for (const outcome of [this.infrastructure, this.kubeconfig]) {
      if (outcome?.progress.state === 'failed')
        return { reason: outcome.progress.reason, message: outcome.progress.message };
    }
    const broken = this.machines.find((m) => m.status?.failureReason && !m.metadata.deletionTimestamp);
    if (broken) {
      return {
        reason: broken.status!.failureReason!,
        message: `Machine ${broken.metadata.name}: ${broken.status!.failureMessage ?? ''}`,
      };
    }
    return undefined;
  }
}
