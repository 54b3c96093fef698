// Making and removing the Machines of a ControlPlane or a MachineDeployment.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Machine } from '../../api/v1alpha1/index.js';
import { CLUSTER_NAME_LABEL, controllerOwnerRef, FINALIZER } from '../../api/v1alpha1/labels.js';
import { type Resource, resources } from '../../kube/resources.js';
import { keyOf } from '../../runtime/object-key.js';
import type { ControllerDeps, Result } from '../deps.js';
import type { Expectations } from './expectations.js';
import { isMachineReady } from './queries.js';
import type { MachineView } from './rollout.js';

export interface MachineOwner {
  kind: 'ControlPlane' | 'MachineDeployment';
  metadata: { name?: string; namespace?: string; uid?: string };
}

export interface NewMachine {
  owner: MachineOwner;
  ownerLabel: string;
  clusterName: string;
  role: Machine['spec']['role'];
  version: string;
  templateName: string;
  /** The owner's, copied as Cluster API copies it (and kept in step: syncNodeDrainTimeout). */
  nodeDrainTimeout?: string | undefined;
  /** The provider's ID for a machine of that name, where it follows from the name (providerIDFor). */
  providerIDFor?: ((machineName: string) => string) | undefined;
}

/** Five random lower-case letters and digits, as Kubernetes' generateName uses. */
function suffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

export async function createMachine(
  deps: ControllerDeps,
  expectations: Expectations,
  spec: NewMachine,
): Promise<string> {
  const name = `${spec.owner.metadata.name}-${suffix()}`;
  const machine: Machine = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Machine',
    metadata: {
      name,
      namespace: spec.owner.metadata.namespace,
      labels: { [CLUSTER_NAME_LABEL]: spec.clusterName, [spec.ownerLabel]: spec.owner.metadata.name! },
      ownerReferences: [controllerOwnerRef(spec.owner)],
      // Made with the Machine controller's finalizer: one write less per machine than adding it later
      // (the controller still adds it to a Machine that lacks it).
      finalizers: [FINALIZER],
    },
    spec: {
      clusterName: spec.clusterName,
      role: spec.role,
      version: spec.version,
      machineTemplateRef: { name: spec.templateName },
      ...(spec.nodeDrainTimeout ? { nodeDrainTimeout: spec.nodeDrainTimeout } : {}),
      ...(spec.providerIDFor ? { providerID: spec.providerIDFor(name) } : {}),
    },
  };
  expectations.expect(keyOf(spec.owner), name);
  await deps.writer.create(resources.Machine, machine);
  return name;
}

/**
 * The owner's nodeDrainTimeout on each of its machines, in place as Cluster API propagates it: a
 * changed timeout reaches a machine already draining, and no machine is replaced for it.
 */
export async function syncNodeDrainTimeout(
  deps: ControllerDeps,
  timeout: string | undefined,
  machines: Machine[],
): Promise<void> {
  for (const m of machines) {
    if (m.spec.nodeDrainTimeout === timeout) continue;
    await deps.writer.patch(resources.Machine, m.metadata.namespace!, m.metadata.name!, {
      spec: { nodeDrainTimeout: timeout ?? null },
    });
  }
}

export function viewOf(m: Machine): MachineView {
  return {
    name: m.metadata.name!,
    version: m.spec.version,
    template: m.spec.machineTemplateRef.name,
    ready: isMachineReady(m),
    deleting: Boolean(m.metadata.deletionTimestamp),
    created: m.metadata.creationTimestamp ?? '',
  };
}

/** The rollout's views of machines; one in `deleted` was deleted in this reconcile, after the cache saw it. */
export function viewsOf(
  machines: readonly Machine[],
  deleted: ReadonlySet<string> = new Set(),
): MachineView[] {
  return machines.map((m) => {
    const view = viewOf(m);
    return deleted.has(view.name) ? { ...view, deleting: true } : view;
  });
}

/**
 * An owner being deleted: its machines all go at once (the cluster is going away, so quorum no
 * longer matters), the owner says so in `deleting` status, and its finalizer goes once none is left.
 */
export async function deleteOwnedMachines<S extends object>(
  deps: ControllerDeps,
  resource: Resource,
  owner: MachineOwner & { metadata: { finalizers?: string[] }; status?: S },
  machines: Machine[],
  deleting: S,
  log: Logger,
): Promise<Result> {
  if (machines.length === 0) {
    await deps.writer.removeFinalizer(resource, owner, FINALIZER);
    return {};
  }
  for (const m of machines.filter((x) => !x.metadata.deletionTimestamp)) {
    await deps.writer.delete(resources.Machine, m.metadata.namespace!, m.metadata.name!);
  }
  await deps.writer.writeStatus(resource, owner, deleting);
  log.info({ machines: machines.length }, 'waiting for its machines to be deleted');
  return { requeueAfterMs: 2_000 };
}
