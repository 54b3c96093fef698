// The Cluster reconciler: drives a cluster through the lifecycle machine. It observes, lets the
// machine decide, performs the tasks of the state it is in, and writes status once.
import type { Logger } from 'pino';
import type { Cluster } from '../../api/v1alpha1/index.js';
import { FINALIZER } from '../../api/v1alpha1/labels.js';
import { resources } from '../../kube/resources.js';
import { step } from '../../lifecycle/snapshot.js';
import { getCondition } from '../common/conditions.js';
import { isPaused, unpauseCommand } from '../common/paused.js';
import { stall } from '../common/waiting.js';
import { type ControllerDeps, jittered, type Result } from '../deps.js';
import { observe } from './observe.js';
import { reportPhaseChange } from './phase-change.js';
import { ClusterScope } from './scope.js';
import { clusterStatus, pausedDeletionMessage } from './status.js';
import { taskRunners } from './tasks.js';

/** How often a Ready cluster is looked at again with nothing changed (drift repair, credential refresh). */
const READY_RESYNC_MS = 5 * 60_000;

export class ClusterReconciler {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile(key: { namespace: string; name: string }, log: Logger): Promise<Result> {
    const cluster = this.deps.clusters.get(key.namespace, key.name);
    if (!cluster) return {};
    const deleting = Boolean(cluster.metadata.deletionTimestamp);
    if (deleting && !cluster.metadata.finalizers?.includes(FINALIZER)) return {};
    if (
      !deleting &&
      !isPaused(cluster) &&
      (await this.deps.writer.addFinalizer(resources.Cluster, cluster, FINALIZER))
    ) {
      return {};
    }
    const provider = this.deps.providers.for(cluster);
    if (!provider) return this.providerMissing(cluster);

    const scope = new ClusterScope(cluster, provider, this.deps, log);
    const before = step(cluster.status?.lifecycle, observe(scope));
    let succeeded = true;
    try {
      if (!isPaused(cluster)) {
        for (const task of before.tasks) {
          if (task === 'removeFinalizer') continue; // only once status is written, below
          await taskRunners[task]?.(scope);
        }
      }
    } catch (err) {
      succeeded = false;
      throw err;
    } finally {
      const after = step(before.persisted, observe(scope));
      const status = clusterStatus(scope, after, succeeded);
      await this.deps.writer.writeStatus(resources.Cluster, cluster, status);
      reportPhaseChange(this.deps, cluster, after, scope.failure(), log);
      if (deleting && after.phase === 'Paused') this.reportPausedDeletion(scope);
      if (after.tasks.includes('removeFinalizer') || after.state === 'deleted') {
        // After the status write above: its answer, in the cache, has the resourceVersion to patch.
        const latest = this.deps.clusters.get(cluster.metadata.namespace!, cluster.metadata.name!) ?? cluster;
        await this.deps.writer.removeFinalizer(resources.Cluster, latest, FINALIZER);
        log.info('cluster deleted');
      } else if (succeeded) {
        scope.requeueAfter(
          after.state !== before.state ? 200 : after.phase === 'Ready' ? jittered(READY_RESYNC_MS) : 10_000,
        );
      }
    }
    return scope.requeues.length > 0 ? { requeueAfterMs: Math.min(...scope.requeues) } : {};
  }

  /** Once per deletion request: the status already says it from then on. */
  private reportPausedDeletion(scope: ClusterScope): void {
    const { cluster } = scope;
    if (getCondition(cluster.status?.conditions, 'Deleting')?.reason === 'Paused') return;
    const message = pausedDeletionMessage(scope);
    scope.log.warn({ fix: unpauseCommand(cluster) }, 'deletion requested while paused; nothing is deleted');
    this.deps.events.warning(cluster, 'DeletionPaused', message);
  }

  /** Only a person can enable a provider: Stalled, so GitOps tools report it instead of waiting. */
  private providerMissing(cluster: Cluster): Promise<Result> {
    return stall(
      this.deps,
      resources.Cluster,
      cluster,
      'ProviderNotEnabled',
      `this operator runs the providers ${this.deps.providers.names().join(', ')}; enable this cluster's provider with clusterforge init --infrastructure`,
    );
  }
}
