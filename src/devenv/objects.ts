// The management cluster's objects as the dev commands read them: only the fields they show or wait
// on, in the namespace `dev up` applies to.
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/meta.js';

export const NAMESPACE = 'default';
/** The field manager of everything `dev up` applies. */
export const FIELD_MANAGER = 'clusterforge-dev';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    deletionTimestamp?: string;
  };
  spec?: { replicas?: number; version?: string };
  status?: {
    phase?: string;
    conditions?: Condition[];
    observedGeneration?: number;
    lifecycle?: { state?: string };
    controlPlaneEndpoint?: { host: string; port: number };
    version?: string;
    replicas?: number;
    readyReplicas?: number;
    failureReason?: string;
    failureMessage?: string;
  };
}

export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export async function getObject(
  kc: KubeConfig,
  plural: string,
  name: string,
  namespace = NAMESPACE,
): Promise<KubeObject | undefined> {
  try {
    return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      name,
    })) as KubeObject;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

export async function listAll(kc: KubeConfig, plural: string): Promise<KubeObject[]> {
  const list = (await kc
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items: KubeObject[] };
  return list.items;
}

export const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined =>
  o?.status?.conditions?.find((c) => c.type === type);
