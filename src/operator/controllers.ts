// Wires the four controllers: one informer per kind, shared by every controller that reads it,
// and the watches that map a change of one kind to the objects of another that must look again.
import type {
  Cluster,
  ControlPlane,
  Machine,
  MachineDeployment,
  MachineTemplate,
} from '../api/v1alpha1/index.js';
import { ClusterReconciler } from '../controllers/cluster/controller.js';
import { CertificateStore } from '../controllers/common/certificates.js';
import { CONTROL_PLANE_NAME_LABEL, DEPLOYMENT_NAME_LABEL } from '../controllers/common/labels.js';
import type { Store } from '../controllers/common/store.js';
import { ControlPlaneReconciler } from '../controllers/controlplane/controller.js';
import type { ControllerDeps } from '../controllers/deps.js';
import { MachineReconciler } from '../controllers/machine/controller.js';
import { MachineDeploymentReconciler } from '../controllers/machinedeployment/controller.js';
import { resources } from '../kube/resources.js';
import { ObjectWriter } from '../kube/writer.js';
import type { InfrastructureProvider } from '../provider/contract.js';
import { ProviderRegistry } from '../provider/registry.js';
import type { MapFunc } from '../runtime/controller.js';
import type { Informer, KubeObject, ObjectKey } from '../runtime/informer.js';
import type { Manager } from '../runtime/manager.js';

export interface OperatorOptions {
  providers: InfrastructureProvider[];
  /** Concurrent reconciles per controller. */
  concurrency?: number;
  /** Watch one namespace only (tests); default all namespaces. */
  namespace?: string;
}

function storeOf<T extends KubeObject>(informer: Informer<T>): Store<T> {
  return {
    get: (namespace, name) => informer.get(namespace, name),
    list: (namespace) => informer.list(namespace === undefined ? {} : { namespace }),
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
  const clusters = informer<Cluster & KubeObject>(resources.Cluster);
  const controlPlanes = informer<ControlPlane & KubeObject>(resources.ControlPlane);
  const templates = informer<MachineTemplate & KubeObject>(resources.MachineTemplate);
  const deployments = informer<MachineDeployment & KubeObject>(resources.MachineDeployment);
  const machines = informer<Machine & KubeObject>(resources.Machine);

  const writer = new ObjectWriter(manager.client);
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

  const same = (key: ObjectKey, name: string | undefined): ObjectKey[] =>
    name ? [{ namespace: key.namespace, name }] : [];
  const byClusterName: MapFunc = (key, obj) => same(key, (obj as unknown as Machine).spec?.clusterName);
  const controlPlaneToCluster: MapFunc = (key, obj) =>
    deps.clusters
      .list(key.namespace)
      .filter((c) => c.spec.controlPlaneRef?.name === obj.metadata?.name)
      .map((c) => ({ namespace: key.namespace, name: c.metadata.name! }));
  const clusterToControlPlane: MapFunc = (key, obj) =>
    same(key, (obj as unknown as Cluster).spec?.controlPlaneRef?.name);
  const clusterToDeployments: MapFunc = (key, obj) =>
    deps.deployments
      .list(key.namespace)
      .filter((d) => d.spec.clusterName === obj.metadata?.name)
      .map((d) => ({ namespace: key.namespace, name: d.metadata.name! }));
  const clusterToMachines: MapFunc = (key, obj) =>
    deps.machines
      .list(key.namespace)
      .filter((m) => m.spec.clusterName === obj.metadata?.name)
      .map((m) => ({ namespace: key.namespace, name: m.metadata.name! }));
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
  const templateToMachines: MapFunc = (key, obj) =>
    deps.machines
      .list(key.namespace)
      .filter((m) => m.spec.machineTemplateRef.name === obj.metadata?.name)
      .map((m) => ({ namespace: key.namespace, name: m.metadata.name! }));

  const workers = opts.concurrency ?? 2;
  manager.addController({
    name: 'cluster',
    for: clusters,
    reconciler: new ClusterReconciler(deps),
    watches: [
      { informer: controlPlanes, map: controlPlaneToCluster },
      { informer: deployments, map: byClusterName },
      { informer: machines, map: byClusterName },
    ],
    workers,
  });
  manager.addController({
    name: 'controlplane',
    for: controlPlanes,
    reconciler: new ControlPlaneReconciler(deps),
    watches: [
      { informer: machines, map: byLabel(CONTROL_PLANE_NAME_LABEL) },
      { informer: clusters, map: clusterToControlPlane },
    ],
    workers,
  });
  manager.addController({
    name: 'machinedeployment',
    for: deployments,
    reconciler: new MachineDeploymentReconciler(deps),
    watches: [
      { informer: machines, map: byLabel(DEPLOYMENT_NAME_LABEL) },
      { informer: clusters, map: clusterToDeployments },
      { informer: controlPlanes, map: viaCluster(clusterToDeployments) },
    ],
    workers,
  });
  manager.addController({
    name: 'machine',
    for: machines,
    reconciler: new MachineReconciler(deps),
    watches: [
      { informer: clusters, map: clusterToMachines },
      { informer: controlPlanes, map: viaCluster(clusterToMachines) },
      { informer: templates, map: templateToMachines },
    ],
    workers,
  });
  return deps;
}
