// What the reconcilers of a machine owner (ControlPlane, MachineDeployment) do before their own
// work, split as Cluster API splits it: reconcile finds the owner and its cluster, then hands over to
// reconcileDelete or reconcileNormal.
import type { Logger } from 'pino';
import type { Cluster } from '../../api/v1alpha1/index.js';
import { FINALIZER } from '../../api/v1alpha1/labels.js';
import type { Condition } from '../../api/v1alpha1/meta.js';
import type { Resource } from '../../kube/resources.js';
import type { ControllerDeps, Result } from '../deps.js';
import { Expectations } from './expectations.js';
import { isPaused } from './paused.js';
import type { Store } from './store.js';
import { stall, waitFor } from './waiting.js';

interface Owner {
  kind: 'ControlPlane' | 'MachineDeployment';
  metadata: { name?: string; namespace?: string; uid?: string; generation?: number; finalizers?: string[] };
  status?: { conditions?: Condition[] };
}

export abstract class MachineOwnerReconciler<
  T extends Owner & { metadata: { deletionTimestamp?: unknown } },
> {
  /** Machines created and not yet in the cache, by owner: without it a quick second reconcile doubles them. */
  protected readonly expectations = new Expectations();

  protected constructor(
    protected readonly deps: ControllerDeps,
    private readonly resource: Resource,
    private readonly owners: Store<T>,
  ) {}

  protected abstract clusterOf(owner: T): Cluster | undefined;
  protected abstract reconcileNormal(owner: T, cluster: Cluster | undefined, log: Logger): Promise<Result>;
  protected abstract reconcileDelete(owner: T, cluster: Cluster | undefined, log: Logger): Promise<Result>;

  async reconcile(key: { namespace: string; name: string }, log: Logger): Promise<Result> {
    const owner = this.expectations.ownerOrForget(this.owners, key);
    if (!owner) return {};
    const cluster = this.clusterOf(owner);
    if (cluster && isPaused(cluster)) return {};
    if (owner.metadata.deletionTimestamp) return this.reconcileDelete(owner, cluster, log);
    if (await this.deps.writer.addFinalizer(this.resource, owner, FINALIZER)) return {};
    return this.reconcileNormal(owner, cluster, log);
  }

  /** Ready=False with why, and a look again shortly. */
  protected wait(owner: T, reason: string, message: string): Promise<Result> {
    return waitFor(this.deps, this.resource, owner, reason, message);
  }

  /** Ready=False and Stalled=True with the fix: what only a change by a person can move on. */
  protected stall(owner: T, reason: string, message: string): Promise<Result> {
    return stall(this.deps, this.resource, owner, reason, message);
  }
}
