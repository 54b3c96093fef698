// Which replica reconciles what, with --shards N (docs/sharding.md): every object of a cluster belongs to
// the shard of its Cluster's namespace/name, so the Cluster, its ControlPlane, MachineDeployments and
// Machines are all reconciled by the replica that holds that shard, and by no other at the same moment.
import type { Logger } from 'pino';
import type * as v1alpha1 from '../api/v1alpha1/index.js';
import { CLUSTER_NAME_LABEL } from '../api/v1alpha1/labels.js';
import { BY_CONTROL_PLANE_REF } from '../controllers/common/indexes.js';
import type { Controller, ReconcileGate } from '../runtime/controller.js';
import { namespacedValue } from '../runtime/indexer.js';
import type { Informer } from '../runtime/informer.js';
import { formatKey, type KubeObject, type ObjectKey, parseKey } from '../runtime/object-key.js';
import { shardOf } from '../runtime/shard-hash.js';
import type { ShardSet } from '../runtime/shards.js';
import type { ControllerName } from './concurrency.js';

/** The Cluster a primary key belongs to, read from the cache; undefined when the object is gone. */
export type ClusterOf = (key: ObjectKey) => ObjectKey | undefined;

interface Caches {
  clusters: Informer<v1alpha1.Cluster & KubeObject>;
  controlPlanes: Informer<v1alpha1.ControlPlane & KubeObject>;
  deployments: Informer<v1alpha1.MachineDeployment & KubeObject>;
  machines: Informer<v1alpha1.Machine & KubeObject>;
}

/** How each controller finds the Cluster of its key. */
export function clusterFinders(c: Caches): Record<ControllerName, ClusterOf> {
  const named = (key: ObjectKey, name: string | undefined): ObjectKey | undefined =>
    name ? { namespace: key.namespace, name } : undefined;
  const bySpec =
    (informer: Informer<v1alpha1.Machine & KubeObject> | Informer<v1alpha1.MachineDeployment & KubeObject>) =>
    (key: ObjectKey) =>
      named(key, informer.get(key.namespace ?? '', key.name)?.spec?.clusterName);
  return {
    cluster: (key) => (c.clusters.get(key.namespace ?? '', key.name) ? key : undefined),
    // The label (set by every template) first; then the Cluster that names it; an orphan by its own name.
    controlplane: (key) => {
      const cp = c.controlPlanes.get(key.namespace ?? '', key.name);
      if (!cp) return undefined;
      const label = cp.metadata?.labels?.[CLUSTER_NAME_LABEL];
      const owner = c.clusters.byIndex(BY_CONTROL_PLANE_REF, namespacedValue(key.namespace, key.name))[0];
      return named(key, label ?? owner?.metadata?.name ?? key.name);
    },
    machinedeployment: bySpec(c.deployments),
    machine: bySpec(c.machines),
  };
}

/**
 * The gate of one controller: a key is reconciled only while its cluster's shard is held. Each reconcile
 * that passes is logged at debug ('shard reconcile started' / 'ended', with shard and cluster) so that an
 * audit can show that no cluster was in the hands of two replicas at once.
 */
export function shardGate(
  shards: ShardSet,
  controller: string,
  clusterOf: ClusterOf,
  log: Logger,
): ReconcileGate {
  return {
    enter(key) {
      // Gone from the cache: nothing is left to do for it, on any replica.
      const cluster = clusterOf(key);
      if (!cluster) return undefined;
      const shard = shardOf(cluster.namespace ?? '', cluster.name, shards.count);
      const exit = shards.enter(shard);
      const fields = {
        controller,
        shard,
        cluster: formatKey(cluster.namespace, cluster.name),
        key: formatKey(key.namespace, key.name),
      };
      if (!exit) {
        // At trace: every replica sees every event, and most keys are another replica's.
        log.trace(fields, 'not in a shard this replica holds; dropped');
        return undefined;
      }
      log.debug(fields, 'shard reconcile started');
      return () => {
        log.debug(fields, 'shard reconcile ended');
        exit();
      };
    },
  };
}

/** When a shard is won, every object of its clusters is queued from the caches (the old owner may be dead). */
export function enqueueOnGain(
  shards: ShardSet,
  controllers: Array<{ controller: Controller<KubeObject>; clusterOf: ClusterOf }>,
): void {
  shards.onGained((shard) => {
    for (const { controller, clusterOf } of controllers) {
      for (const key of controller.informer.keys()) {
        const objectKey = parseKey(key);
        const cluster = clusterOf(objectKey);
        if (cluster && shardOf(cluster.namespace ?? '', cluster.name, shards.count) === shard)
          controller.enqueue(objectKey);
      }
    }
  });
}
