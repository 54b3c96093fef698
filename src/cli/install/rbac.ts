// The operator's permissions: exactly the verbs and resources that the code in src/runtime and
// src/controllers calls, and nothing else (no wildcard). When a controller starts calling something new,
// add it here; test/e2e/cli/rbac.test.ts runs a whole local cluster lifecycle under these rules and fails
// on any 403.
import { GROUP } from '../../api/v1alpha1/group.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** The leader-election Lease the operator holds (src/operator/run.ts). */
export const LEADER_ELECTION_LEASE = 'clusterforge-operator';

/** Cluster-wide: the operator watches every namespace and acts on clusters wherever they are. */
export const operatorClusterRules: PolicyRule[] = [
  {
    // Informers (src/runtime/informer.ts) list and watch every kind. A template gets an owner reference
    // to the Clusters that use it (patch), and is deleted with the last of them
    // (src/controllers/common/template-owner.ts).
    apiGroups: [GROUP],
    resources: ['machinetemplates'],
    verbs: ['list', 'watch', 'patch', 'delete'],
  },
  {
    // Clusters: finalizer add/remove (ObjectWriter.patch). The operator never creates or deletes one.
    apiGroups: [GROUP],
    resources: ['clusters'],
    verbs: ['list', 'watch', 'patch'],
  },
  {
    // ControlPlanes and MachineDeployments: finalizers (patch); the Cluster deletes them on its way out.
    apiGroups: [GROUP],
    resources: ['controlplanes', 'machinedeployments'],
    verbs: ['list', 'watch', 'patch', 'delete'],
  },
  {
    // Machines: made and removed by ControlPlane and MachineDeployment; finalizers and spec.providerID (patch).
    apiGroups: [GROUP],
    resources: ['machines'],
    verbs: ['list', 'watch', 'create', 'patch', 'delete'],
  },
  {
    // Status is written only as a merge patch through the status subresource (ObjectWriter.patchStatus).
    apiGroups: [GROUP],
    resources: ['clusters/status', 'controlplanes/status', 'machinedeployments/status', 'machines/status'],
    verbs: ['patch'],
  },
  {
    // Cluster certificates and the kubeconfig Secret: readSecret, createSecret, replaceSecret, delete;
    // list and watch for the informer of the Secrets the operator made (label clusterforge.dev/
    // cluster-name: the server sends no other), so they are read from memory, not per reconcile.
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
  },
  {
    // Publishers (spec.publish; src/publish/registration.ts): the Argo CD, Fleet, Karmada and Istio
    // registrations are Secrets applied server-side in the tools' namespaces, found again by label in
    // every namespace (list) and deleted when withdrawn.
    apiGroups: [''],
    resources: ['secrets'],
    verbs: ['list', 'patch'],
  },
  {
    // Publishers: Flux's secret-less registration of an EKS cluster (src/publish/flux.ts) is a
    // ConfigMap applied server-side, found again by label, deleted when withdrawn.
    apiGroups: [''],
    resources: ['configmaps'],
    verbs: ['get', 'list', 'patch', 'delete'],
  },
  {
    // Publishers: Fleet's and Karmada's Cluster objects (only when those CRDs are installed).
    apiGroups: ['fleet.cattle.io', 'cluster.karmada.io'],
    resources: ['clusters'],
    verbs: ['get', 'list', 'patch', 'delete'],
  },
  {
    // EventRecorder (src/runtime/events.ts): creates an Event, then patches its count.
    apiGroups: ['events.k8s.io'],
    resources: ['events'],
    verbs: ['create', 'patch'],
  },
];

/** In the operator's own namespace only: the leader-election Lease (src/runtime/leader-election.ts). */
export const operatorNamespaceRules: PolicyRule[] = [
  {
    // Creating cannot be limited by name (the name is not known to the authorizer before the object exists).
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['create'],
  },
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'update'],
    resourceNames: [LEADER_ELECTION_LEASE],
  },
];

/** With --shards: every replica lists the shard and member Leases (a list cannot be limited by
 * name), takes over expired ones and deletes its own member Lease. */
export const shardRules: PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'list', 'update', 'delete'] },
];
