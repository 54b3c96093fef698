// The Nodes of a workload cluster as a health check needs them: one list per look, as the cluster's
// admin. Undefined when the API does not answer (not yet up, or cut off): the checks then judge no Node.
import type { Logger } from 'pino';
import type { Cluster } from '../../api/v1alpha1/index.js';
import { workloadAdminClient } from '../../kube/workload-client.js';
import type { InfrastructureProvider } from '../../provider/contract.js';
import { resourcePath } from '../../runtime/transport.js';
import type { ControllerDeps } from '../deps.js';
import type { NodeFacts } from './verdict.js';

const NODES = { group: '', version: 'v1', plural: 'nodes' };

interface NodeList {
  items: {
    metadata: { name?: string; creationTimestamp?: string };
    spec?: { providerID?: string };
    status?: {
      conditions?: { type: string; status: string; lastTransitionTime?: string; message?: string }[];
    };
  }[];
}

export async function workloadNodes(
  deps: ControllerDeps,
  provider: InfrastructureProvider,
  cluster: Cluster,
  log: Logger,
): Promise<{ nodes?: NodeFacts[]; unreachable?: string }> {
  if (!provider.servesWorkloadAPI) return { unreachable: "the provider's clusters serve no API" };
  try {
    const certificates = provider.selfManagedControlPlane ? await deps.certificates.load(cluster) : undefined;
    const material = await provider.kubeconfig({ cluster, log, ...(certificates ? { certificates } : {}) });
    const client = workloadAdminClient(material, 'clusterforge-health-check');
    const list = await client.request<NodeList>({ method: 'GET', path: resourcePath(NODES) });
    return {
      nodes: list.items.map((n) => {
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        return {
          name: n.metadata.name ?? '',
          ...(n.spec?.providerID ? { providerID: n.spec.providerID } : {}),
          ...(n.metadata.creationTimestamp ? { created: n.metadata.creationTimestamp } : {}),
          ...(ready
            ? {
                ready: {
                  status: ready.status,
                  ...(ready.lastTransitionTime ? { since: ready.lastTransitionTime } : {}),
                  ...(ready.message ? { message: ready.message } : {}),
                },
              }
            : {}),
        };
      }),
    };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { unreachable: `the workload cluster's API did not answer: ${why}` };
  }
}
