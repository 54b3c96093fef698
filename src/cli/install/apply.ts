// Server-side apply of raw objects through the runtime's KubeClient (not @kubernetes/client-node's typed
// serializer, which drops the x-kubernetes-* keys of a CRD schema). Reports, per object, whether it was
// created, changed, or left unchanged (same resourceVersion before and after).
import { isNotFound } from '../../runtime/errors.js';
import { type KubeClient, type ResourceRef, resourcePath } from '../../runtime/transport.js';
import { CliError, ExitCode } from '../common.js';
import type { KubeObject } from './manifests.js';

interface Kind extends ResourceRef {
  namespaced: boolean;
}

/** The kinds `init` applies. A static table: no discovery round trip is needed for built-in kinds. */
const KINDS: Record<string, Kind> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  'v1/Namespace': { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  'v1/ServiceAccount': { group: '', version: 'v1', plural: 'serviceaccounts', namespaced: true },
  'v1/Secret': { group: '', version: 'v1', plural: 'secrets', namespaced: true },
  'rbac.authorization.k8s.io/v1/ClusterRole': {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterroles',
    namespaced: false,
  },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'clusterrolebindings',
    namespaced: false,
  },
  'rbac.authorization.k8s.io/v1/Role': {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'roles',
    namespaced: true,
  },
  'rbac.authorization.k8s.io/v1/RoleBinding': {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    plural: 'rolebindings',
    namespaced: true,
  },
  'apps/v1/Deployment': { group: 'apps', version: 'v1', plural: 'deployments', namespaced: true },
  'v1/Service': { group: '', version: 'v1', plural: 'services', namespaced: true },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    group: 'monitoring.coreos.com',
    version: 'v1',
    plural: 'servicemonitors',
    namespaced: true,
  },
};

/** The CRD that makes a ServiceMonitor possible (the Prometheus Operator's). */
export const SERVICE_MONITOR_CRD = 'servicemonitors.monitoring.coreos.com';

/** Whether the API server knows ServiceMonitors: its CRD exists. */
export async function hasServiceMonitorCRD(client: KubeClient): Promise<boolean> {
  try {
    await client.request({
      method: 'GET',
      path: resourcePath(KINDS['apiextensions.k8s.io/v1/CustomResourceDefinition'] as Kind, {
        name: SERVICE_MONITOR_CRD,
      }),
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export function kindOf(obj: KubeObject): Kind {
  const kind = KINDS[`${obj.apiVersion}/${obj.kind}`];
  if (!kind) throw new Error(`clusterforge init cannot apply a ${obj.apiVersion} ${obj.kind}`);
  return kind;
}

export function objectPath(obj: KubeObject): string {
  const kind = kindOf(obj);
  return resourcePath(kind, {
    namespace: kind.namespaced ? obj.metadata.namespace : undefined,
    name: obj.metadata.name,
  });
}

/** `Deployment clusterforge-system/clusterforge-operator`, `ClusterRole clusterforge-operator`. */
export function displayName(obj: KubeObject): string {
  const ns = obj.metadata.namespace ? `${obj.metadata.namespace}/` : '';
  return `${obj.kind} ${ns}${obj.metadata.name}`;
}

export type ApplyResult = 'created' | 'configured' | 'unchanged';

export interface Applied {
  kind: string;
  name: string;
  namespace?: string;
  result: ApplyResult;
}

export async function serverSideApply(
  client: KubeClient,
  obj: KubeObject,
  fieldManager: string,
): Promise<{ result: ApplyResult; object: KubeObject }> {
  const path = objectPath(obj);
  let before: KubeObject | undefined;
  try {
    before = await client.request<KubeObject>({ method: 'GET', path });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  let after: KubeObject;
  try {
    after = await client.request<KubeObject>({
      method: 'PATCH',
      path,
      // force: init owns these fields; a field another manager set (kubectl apply, a GitOps tool) is taken
      // over rather than failing with a conflict, as `kubectl apply --server-side --force-conflicts` would.
      query: { fieldManager, force: true },
      // JSON is YAML, so the apply-patch+yaml content type takes the JSON body as it is.
      contentType: 'application/apply-patch+yaml',
      body: obj,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if ((err as { code?: number }).code === 403) throw err;
    throw new CliError(`could not apply ${displayName(obj)}: ${message}`, ExitCode.failure);
  }
  const result: ApplyResult = !before
    ? 'created'
    : before.metadata.resourceVersion === after.metadata.resourceVersion
      ? 'unchanged'
      : 'configured';
  return { result, object: after };
}
