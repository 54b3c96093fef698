// Draining a Machine's Node before its infrastructure goes, as Cluster API does: cordon it, evict its
// pods through the Eviction API (PodDisruptionBudgets hold it back; a blocked pod is tried again,
// never deleted), then wait until they are gone. Each call does one round and says whether it is over.
import { workloadAdminClient } from '../../kube/workload-client.js';
import type { InfrastructureProvider, MachineContext } from '../../provider/contract.js';
import { KubeApiError } from '../../runtime/errors.js';
import { type KubeClient, resourcePath } from '../../runtime/transport.js';
import type { ConditionInput } from '../common/conditions.js';
import {
  type BlockedEviction,
  type BudgetLike,
  budgetsOf,
  DRAINED,
  drainingCondition,
  type PodLike,
  podAction,
  podName,
} from './drain-plan.js';

const NODES = { group: '', version: 'v1', plural: 'nodes' };
const PODS = { group: '', version: 'v1', plural: 'pods' };
const BUDGETS = { group: 'policy', version: 'v1', plural: 'poddisruptionbudgets' };

interface NodeLike {
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface DrainRound {
  done: boolean;
  condition: ConditionInput;
}

const drained = (message: string): DrainRound => ({
  done: true,
  condition: { type: DRAINED, status: 'True', reason: 'Drained', message },
});

/** One round of the drain of `node`, as the workload cluster's admin. */
export async function drainRound(
  provider: Pick<InfrastructureProvider, 'kubeconfig'>,
  ctx: MachineContext,
  node: string,
): Promise<DrainRound> {
  try {
    const client = workloadAdminClient(await provider.kubeconfig(ctx), 'clusterforge-drain');
    return await drainWith(client, node);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      done: false,
      condition: {
        type: DRAINED,
        status: 'False',
        reason: 'DrainError',
        message: `draining Node ${node}: ${message}`,
      },
    };
  }
}

async function drainWith(client: KubeClient, node: string): Promise<DrainRound> {
  const found = await getOrNull<NodeLike>(client, resourcePath(NODES, { name: node }));
  if (!found) return drained(`Node ${node} is gone`);
  if (!found.spec?.unschedulable) await cordon(client, node);
  const unreachable = found.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'Unknown');
  const pods = await client.request<{ items: PodLike[] }>({
    method: 'GET',
    path: resourcePath(PODS),
    query: { fieldSelector: `spec.nodeName=${node}` },
  });
  const waiting: string[] = [];
  const blocked: BlockedEviction[] = [];
  const budgets = new Map<string, BudgetLike[]>();
  for (const pod of pods.items) {
    const action = podAction(pod, unreachable ?? false);
    if (action === 'skip') continue;
    if (action === 'wait') {
      waiting.push(podName(pod));
      continue;
    }
    const refused = await evict(client, pod);
    if (refused === undefined) waiting.push(podName(pod));
    else if (refused !== 'gone') {
      const ns = pod.metadata.namespace!;
      if (!budgets.has(ns)) budgets.set(ns, await budgetsIn(client, ns));
      blocked.push({ pod: podName(pod), budgets: budgetsOf(pod, budgets.get(ns)!), message: refused });
    }
  }
  if (waiting.length === 0 && blocked.length === 0) return drained(`Node ${node} drained`);
  return { done: false, condition: drainingCondition({ node, waiting, blocked }) };
}

async function getOrNull<T>(client: KubeClient, path: string): Promise<T | undefined> {
  try {
    return await client.request<T>({ method: 'GET', path });
  } catch (err) {
    if (err instanceof KubeApiError && err.code === 404) return undefined;
    throw err;
  }
}

/** `kubectl cordon`: nothing new is scheduled onto the Node while it drains. */
async function cordon(client: KubeClient, node: string): Promise<void> {
  await client.request({
    method: 'PATCH',
    path: resourcePath(NODES, { name: node }),
    body: { spec: { unschedulable: true } },
    contentType: 'application/merge-patch+json',
  });
}

/**
 * Asks the Eviction API to evict the pod with its own grace period. Undefined: accepted; 'gone':
 * the pod went already; otherwise why it was refused: 429 when a PodDisruptionBudget allows no
 * disruption now, 500 when more than one covers the pod. Refused evictions are tried again later.
 */
async function evict(client: KubeClient, pod: PodLike): Promise<string | undefined> {
  const { name, namespace } = pod.metadata;
  try {
    await client.request({
      method: 'POST',
      path: resourcePath(PODS, { namespace, name: name!, subresource: 'eviction' }),
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace } },
    });
    return undefined;
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    if (err.code === 404) return 'gone';
    if (err.code === 429 || err.code === 500) return messageOf(err);
    throw err;
  }
}

/** The API server's own sentence, without the verb and path KubeApiError puts before it. */
function messageOf(err: KubeApiError): string {
  const prefix = `${err.verb} ${err.path}: ${err.code}${err.reason ? ` ${err.reason}` : ''}: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

async function budgetsIn(client: KubeClient, namespace: string): Promise<BudgetLike[]> {
  const list = await client.request<{ items: BudgetLike[] }>({
    method: 'GET',
    path: resourcePath(BUDGETS, { namespace }),
  });
  return list.items;
}
