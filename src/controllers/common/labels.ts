// Labels and owner references that tie a cluster's objects together.
import { API_VERSION, CLUSTER_NAME_LABEL, PAUSED_ANNOTATION } from '../../api/v1alpha1/meta.js';

export { CLUSTER_NAME_LABEL };
/** On Machines a ControlPlane made. */
export const CONTROL_PLANE_NAME_LABEL = 'clusterforge.dev/control-plane-name';
/** On Machines a MachineDeployment made. */
export const DEPLOYMENT_NAME_LABEL = 'clusterforge.dev/deployment-name';
/** The Cluster API label that tools read on the kubeconfig Secret. */
export const CAPI_CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';

export interface OwnerLike {
  kind: string;
  metadata: { name?: string; uid?: string };
}

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

/** Paused by `spec.paused` or by the annotation, as in Cluster API. */
export function isPaused(obj: {
  metadata: { annotations?: Record<string, string> };
  spec?: { paused?: boolean };
}): boolean {
  return obj.spec?.paused === true || obj.metadata.annotations?.[PAUSED_ANNOTATION] !== undefined;
}

/** `namespace/name`, the work-queue key. */
export function keyOf(obj: { metadata: { namespace?: string; name?: string } }): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}
