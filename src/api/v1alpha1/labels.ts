// The labels, annotations, finalizer and owner references of the clusterforge.dev/v1alpha1 API:
// what ties a cluster's objects together, for the controllers and for anyone who reads them.
import { API_VERSION } from './group.js';

/** Label on everything a cluster owns (Cluster API uses cluster.x-k8s.io/cluster-name). */
export const CLUSTER_NAME_LABEL = 'clusterforge.dev/cluster-name';
/** On Machines a ControlPlane made. */
export const CONTROL_PLANE_NAME_LABEL = 'clusterforge.dev/control-plane-name';
/** On Machines a MachineDeployment made. */
export const DEPLOYMENT_NAME_LABEL = 'clusterforge.dev/deployment-name';
/** The Cluster API label that tools read on the kubeconfig Secret. */
export const CAPI_CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';

export const FINALIZER = 'clusterforge.dev/finalizer';
export const PAUSED_ANNOTATION = 'clusterforge.dev/paused';
/** On a Machine: delete it without draining its Node (Cluster API: machine.cluster.x-k8s.io/exclude-node-draining). */
export const EXCLUDE_NODE_DRAINING_ANNOTATION = 'clusterforge.dev/exclude-node-draining';
/** On a published credential: when it was issued and when it stops working (RFC 3339). */
export const ISSUED_AT_ANNOTATION = 'clusterforge.dev/credential-issued-at';
export const EXPIRES_AT_ANNOTATION = 'clusterforge.dev/credential-expires-at';

export interface OwnerLike {
  kind: string;
  metadata: { name?: string; uid?: string };
}

/** The owner reference that makes `owner` the controller of an object: deleting it deletes the object. */
export function controllerOwnerRef(owner: OwnerLike, apiVersion = API_VERSION) {
  return {
    apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}
