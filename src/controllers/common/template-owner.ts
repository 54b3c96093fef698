// MachineTemplates belong to the Clusters that use them, as in Cluster API (a template a MachineDeployment
// or control plane names gets an owner reference to its Cluster, not as controller): the reference says
// where the template belongs, and a management cluster's garbage collector removes a template once every
// Cluster that owns it is gone. The operator never waits for that collector (a management plane without
// kube-controller-manager, such as the dev environment's, has none): a Cluster's deletion releases its
// templates itself, deleting each one no other Cluster owns or uses.
import type { Cluster, MachineTemplate } from '../../api/v1alpha1/index.js';
import { API_VERSION } from '../../api/v1alpha1/meta.js';
import { resources } from '../../kube/resources.js';
import type { ControllerDeps } from '../deps.js';

type OwnerReference = NonNullable<MachineTemplate['metadata']['ownerReferences']>[number];

const isClusterRef = (r: OwnerReference) =>
  r.kind === 'Cluster' && r.apiVersion.split('/')[0] === API_VERSION.split('/')[0];

/** The owner reference of a user's object to the Cluster that uses it: deleting the Cluster is never blocked. */
export function clusterOwnerRef(cluster: Cluster): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: 'Cluster',
    name: cluster.metadata.name!,
    uid: cluster.metadata.uid!,
    controller: false,
    blockOwnerDeletion: false,
  };
}

/**
 * Adds `cluster`'s owner reference to the MachineTemplate `name` of its namespace, unless it has it. A
 * reference to an earlier Cluster of the same name (another uid) is replaced, as Cluster API's
 * EnsureOwnerRef does. Conditional on the cached resourceVersion: a conflict is retried by the caller.
 */
export async function adoptTemplate(deps: ControllerDeps, cluster: Cluster, name: string): Promise<void> {
  const ns = cluster.metadata.namespace!;
  const template = deps.templates.get(ns, name);
  if (!template || template.metadata.deletionTimestamp || !cluster.metadata.uid) return;
  const refs = template.metadata.ownerReferences ?? [];
  if (refs.some((r) => isClusterRef(r) && r.uid === cluster.metadata.uid)) return;
  // A ControlPlane and a MachineDeployment sharing the template reconcile at once: the second waits for
  // the first one's patch instead of sending its own, which the resourceVersion would refuse (409).
  const inFlight = adoptions.get(deps.writer) ?? new Map<string, Promise<unknown>>();
  adoptions.set(deps.writer, inFlight);
  const key = `${ns}/${name}/${cluster.metadata.uid}`;
  const pending = inFlight.get(key);
  if (pending) {
    await pending;
    return;
  }
  const others = refs.filter((r) => !(isClusterRef(r) && r.name === cluster.metadata.name));
  const patch = deps.writer
    .patch(resources.MachineTemplate, ns, name, {
      metadata: {
        ownerReferences: [...others, clusterOwnerRef(cluster)],
        resourceVersion: template.metadata.resourceVersion,
      },
    })
    .finally(() => inFlight.delete(key));
  inFlight.set(key, patch);
  await patch;
}

/** Adoption patches on their way, per writer (one per operator process): template key -> the patch. */
const adoptions = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Whether a ControlPlane or MachineDeployment of the namespace, not being deleted, names the template. */
function inUse(deps: ControllerDeps, ns: string, name: string): boolean {
  const owners = [...deps.controlPlanes.list(ns), ...deps.deployments.list(ns)];
  return owners.some((o) => !o.metadata.deletionTimestamp && o.spec.machineTemplateRef?.name === name);
}

/**
 * At the end of `cluster`'s deletion (its machines gone): every template it owns loses its reference, and
 * is deleted when nothing else owns it and no ControlPlane or MachineDeployment still names it. Returns
 * the names deleted.
 */
export async function releaseTemplates(deps: ControllerDeps, cluster: Cluster): Promise<string[]> {
  const ns = cluster.metadata.namespace!;
  const uid = cluster.metadata.uid;
  const deleted: string[] = [];
  for (const template of deps.templates.list(ns)) {
    const refs = template.metadata.ownerReferences ?? [];
    if (!uid || !refs.some((r) => isClusterRef(r) && r.uid === uid)) continue;
    const name = template.metadata.name!;
    const others = refs.filter((r) => r.uid !== uid);
    // As the garbage collector counts owners: a Cluster that no longer exists owns nothing.
    const owners = others.filter(
      (r) => !isClusterRef(r) || deps.clusters.get(ns, r.name)?.metadata.uid === r.uid,
    );
    if (owners.length === 0 && !inUse(deps, ns, name)) {
      if (await deps.writer.delete(resources.MachineTemplate, ns, name)) deleted.push(name);
      continue;
    }
    await deps.writer.patch(resources.MachineTemplate, ns, name, {
      metadata: { ownerReferences: others, resourceVersion: template.metadata.resourceVersion },
    });
  }
  return deleted;
}
