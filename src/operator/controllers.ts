// Wires the four controllers: one informer per kind, shared by every controller that reads it,
// and the watches that map a change of one kind to the objects of another that must look again.
import type { V1Secret } from '@kubernetes/client-node';
import type * as v1alpha1 from '../api/v1alpha1/index.js';
import {
  CLUSTER_NAME_LABEL,
  CONTROL_PLANE_NAME_LABEL,
  DEPLOYMENT_NAME_LABEL,
} from '../api/v1alpha1/labels.js';
import { ClusterReconciler } from '../controllers/cluster/controller.js';
import { CertificateStore } from '../controllers/common/certificates.js';
import {
  BY_CLUSTER,
  BY_CONTROL_PLANE_REF,
  BY_TEMPLATE,
  CLUSTER_INDEXES,
  DEPLOYMENT_INDEXES,
  ensureIndexes,
  MACHINE_INDEXES,
} from '../controllers/common/indexes.js';
import type { Store } from '../controllers/common/store.js';
import { ControlPlaneReconciler } from '../controllers/controlplane/controller.js';
import type { ControllerDeps } from '../controllers/deps.js';
import { MachineReconciler } from '../controllers/machine/controller.js';
import { MachineDeploymentReconciler } from '../controllers/machinedeployment/controller.js';
import { resources } from '../kube/resources.js';
import { ObjectWriter } from '../kube/writer.js';
import type { InfrastructureProvider } from '../provider/contract.js';
import { ProviderRegistry } from '../provider/registry.js';
import type { Controller, ControllerOptions, MapFunc, Reconciler } from '../runtime/controller.js';
import { namespacedValue } from '../runtime/indexer.js';
import type { Informer, InformerSpec } from '../runtime/informer.js';
import type { Manager } from '../runtime/manager.js';
import type { KubeObject, ObjectKey } from '../runtime/object-key.js';
import { type ControllerName, DEFAULT_CONCURRENCY } from './concurrency.js';
import { clusterFinders, enqueueOnGain, shardGate } from './shard-routing.js';

export interface OperatorOptions {
  providers: InfrastructureProvider[];
  /** Concurrent reconciles: one number for every controller, or per controller (DEFAULT_CONCURRENCY if not named). */
  concurrency?: number | Partial<Record<ControllerName, number>>;
  /** Watch one namespace only (tests); default all namespaces. */
  namespace?: string;
}

function storeOf<T extends KubeObject>(informer: Informer<T>): Store<T> {
  return {
    get: (namespace, name) => informer.get(namespace, name),
    list: (namespace) => informer.list(namespace === undefined ? {} : { namespace }),
    byIndex: (index, namespace, value) => informer.byIndex(index, namespacedValue(namespace, value)),
  };
}

/** The informer spec of the Secrets the operator makes (they carry the cluster's label), shared by its readers. */
export function ownSecrets(namespace?: string): InformerSpec {
  return {
    group: '',
    version: 'v1',
    plural: 'secrets',
    labelSelector: CLUSTER_NAME_LABEL,
    ...(namespace ? { namespace } : {}),
  };
}

/** Adds the four controllers to the manager; returns what they share (tests read the caches). */
export function registerControllers(manager: Manager, opts: OperatorOptions): ControllerDeps {
  const informer = <T extends KubeObject>(r: (typeof resources)[keyof typeof resources]) =>
    manager.informer<T>({
      group: r.group,
      version: r.version,
      plural: r.plural,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    });
  const clusters = informer<v1alpha1.Cluster & KubeObject>(resources.Cluster);
  const controlPlanes = informer<v1alpha1.ControlPlane & KubeObject>(resources.ControlPlane);
  const templates = informer<v1alpha1.MachineTemplate & KubeObject>(resources.MachineTemplate);
  const deployments = informer<v1alpha1.MachineDeployment & KubeObject>(resources.MachineDeployment);
  const machines = informer<v1alpha1.Machine & KubeObject>(resources.Machine);
  ensureIndexes(clusters, CLUSTER_INDEXES);
  ensureIndexes(deployments, DEPLOYMENT_INDEXES);
  ensureIndexes(machines, MACHINE_INDEXES);

  // The Secrets we make carry the cluster's label; only those are cached (and only those come over the
  // watch), so certificates and kubeconfigs are read from memory and a deleted one is noticed at once.
  const secrets = manager.informer<V1Secret & KubeObject>(ownSecrets(opts.namespace));
  const writer = new ObjectWriter(manager.client);
  writer.useSecretCache(
    (namespace, name) => (secrets.hasSynced() ? secrets.get(namespace, name) : undefined),
    (namespace, labels) => (secrets.hasSynced() ? secrets.list({ namespace, labels }) : undefined),
  );
  // Read your writes: each answer to a write of ours goes into its kind's cache at once.
  const cacheOf = new Map<string, Informer<KubeObject>>(
    [clusters, controlPlanes, templates, deployments, machines, secrets].map((i) => [
      `${i.spec.plural}.${i.spec.group}`,
      i as unknown as Informer<KubeObject>,
    ]),
  );
  writer.observeWrites((r, answer) =>
    cacheOf.get(`${r.plural}.${r.group}`)?.observeWrite(answer as KubeObject),
  );
  const deps: ControllerDeps = {
    clusters: storeOf(clusters),
    controlPlanes: storeOf(controlPlanes),
    templates: storeOf(templates),
    deployments: storeOf(deployments),
    machines: storeOf(machines),
    writer,
    providers: new ProviderRegistry(opts.providers),
    certificates: new CertificateStore(writer),
    events: manager.eventRecorder('operator'),
    log: manager.log,
  };

  // Watch mappings: an event on one kind to the keys of another, each an index lookup.
  const same = (key: ObjectKey, name: string | undefined): ObjectKey[] =>
    name ? [{ namespace: key.namespace, name }] : [];
  const keysOf = (key: ObjectKey, objs: readonly KubeObject[]): ObjectKey[] =>
    objs.map((o) => ({ namespace: key.namespace, name: o.metadata!.name! }));
  const byClusterName: MapFunc = (key, obj) =>
    same(key, (obj as unknown as v1alpha1.Machine).spec?.clusterName);
  const controlPlaneToCluster: MapFunc = (key) =>
    keysOf(key, clusters.byIndex(BY_CONTROL_PLANE_REF, namespacedValue(key.namespace, key.name)));
  const clusterToControlPlane: MapFunc = (key, obj) =>
    same(key, (obj as unknown as v1alpha1.Cluster).spec?.controlPlaneRef?.name);
  const clusterToDeployments: MapFunc = (key) =>
    keysOf(key, deployments.byIndex(BY_CLUSTER, namespacedValue(key.namespace, key.name)));
  const clusterToMachines: MapFunc = (key) =>
    keysOf(key, machines.byIndex(BY_CLUSTER, namespacedValue(key.namespace, key.name)));
  const viaCluster =
    (then: MapFunc): MapFunc =>
    (key, obj) =>
      controlPlaneToCluster(key, obj).flatMap((c) => {
        const cluster = deps.clusters.get(c.namespace ?? '', c.name);
        return cluster ? then(c, cluster as unknown as KubeObject) : [];
      });
  const byLabel =
    (label: string): MapFunc =>
    (key, obj) =>
      same(key, obj.metadata?.labels?.[label]);
  const templateToMachines: MapFunc = (key) =>
    keysOf(key, machines.byIndex(BY_TEMPLATE, namespacedValue(key.namespace, key.name)));

  const workers = (name: ControllerName): number =>
    (typeof opts.concurrency === 'number' ? opts.concurrency : opts.concurrency?.[name]) ??
    DEFAULT_CONCURRENCY;
  // Sharded (--shards N): each controller reconciles only the keys of the clusters in the shards held.
  const shards = manager.shards;
  const clusterOf = clusterFinders({ clusters, controlPlanes, deployments, machines });
  const sharded: Parameters<typeof enqueueOnGain>[1] = [];
  // Each controller: its name, its primary kind's informer, its reconciler, and what else wakes it.
  const add = <P extends KubeObject>(
    name: ControllerName,
    primary: Informer<P>,
    reconciler: Reconciler,
    watches: ControllerOptions<P>['watches'],
  ) => {
    const gate = shards && shardGate(shards, name, clusterOf[name], manager.log);
    const controller = manager.addController({
      name,
      for: primary,
      reconciler,
      watches,
      workers: workers(name),
      ...(gate ? { gate } : {}),
    });
    sharded.push({ controller: controller as unknown as Controller<KubeObject>, clusterOf: clusterOf[name] });
  };
  add('cluster', clusters, new ClusterReconciler(deps), [
    { informer: controlPlanes, map: controlPlaneToCluster },
    { informer: deployments, map: byClusterName },
    { informer: machines, map: byClusterName },
    // A kubeconfig or certificate Secret changed or deleted by hand: publish or report it again.
    { informer: secrets, map: byLabel(CLUSTER_NAME_LABEL) },
  ]);
  add('controlplane', controlPlanes, new ControlPlaneReconciler(deps), [
    { informer: machines, map: byLabel(CONTROL_PLANE_NAME_LABEL) },
    { informer: clusters, map: clusterToControlPlane },
  ]);
  add('machinedeployment', deployments, new MachineDeploymentReconciler(deps), [
    { informer: machines, map: byLabel(DEPLOYMENT_NAME_LABEL) },
    { informer: clusters, map: clusterToDeployments },
    { informer: controlPlanes, map: viaCluster(clusterToDeployments) },
  ]);
  add('machine', machines, new MachineReconciler(deps), [
    { informer: clusters, map: clusterToMachines },
    { informer: controlPlanes, map: viaCluster(clusterToMachines) },
    { informer: templates, map: templateToMachines },
  ]);
  if (shards) enqueueOnGain(shards, sharded);
  return deps;
}
