// The work each lifecycle task stands for. A task acts through the provider or the API and records
// what it found in the scope; it never decides what comes next (the lifecycle machine does).
import {
  CLUSTER_NAME_LABEL,
  CONTROL_PLANE_NAME_LABEL,
  DEPLOYMENT_NAME_LABEL,
  FINALIZER,
} from '../../api/v1alpha1/labels.js';
import { apiMessage } from '../../kube/errors.js';
import { resources } from '../../kube/resources.js';
import { publishKubeconfigSecret, serverURL } from '../../publish/kubeconfig-secret.js';
import { kubeconfigSecretName, userKubeconfigSecretName } from '../../publish/kubeconfig-secret-names.js';
import { certificateSecretNames } from '../common/certificates.js';
import { releaseTemplates } from '../common/template-owner.js';
import { controlPlaneInitialized } from './observe.js';
import { publishToConsumers, withdrawPublications } from './publish.js';
import type { ClusterScope } from './scope.js';

export type TaskRunner = (scope: ClusterScope) => Promise<void>;

const ensureInfrastructure: TaskRunner = async (scope) => {
  const status = await scope.provider.ensureInfrastructure({ cluster: scope.cluster, log: scope.log });
  scope.infrastructure = status.endpoint
    ? { progress: status.progress, endpoint: status.endpoint }
    : { progress: status.progress };
  if (status.progress.state === 'inProgress') scope.requeueAfter(status.progress.requeueAfterMs);
};

const ensureCertificates: TaskRunner = async (scope) => {
  if (!scope.provider.selfManagedControlPlane) return;
  try {
    scope.certificates = await scope.deps.certificates.ensure(scope.cluster);
  } catch (err) {
    scope.certificatesError = apiMessage(err);
    scope.requeueAfter(5_000);
  }
};

const publishKubeconfig: TaskRunner = async (scope) => {
  const endpoint = scope.infrastructure?.endpoint ?? scope.cluster.status?.controlPlaneEndpoint;
  if (!controlPlaneInitialized(scope) || !endpoint) return;
  const certificates = scope.certificates ?? (await scope.deps.certificates.load(scope.cluster));
  const ctx = { cluster: scope.cluster, log: scope.log, ...(certificates ? { certificates } : {}) };
  try {
    const published = await publishKubeconfigSecret(
      scope.deps.writer,
      scope.cluster,
      serverURL(endpoint),
      () => scope.provider.kubeconfig(ctx),
    );
    if (published.wrote.length > 0) {
      scope.deps.events.normal(
        scope.cluster,
        'KubeconfigPublished',
        `wrote Secret ${published.wrote.join(', ')}`,
      );
    }
    // An expiring credential (EKS's token) is rewritten on time, not at the next resync.
    if (published.refreshAt) {
      scope.requeueAfter(Math.max(1_000, published.refreshAt.getTime() - Date.now()));
    }
    scope.kubeconfig = { progress: { state: 'done' } };
  } catch (err) {
    scope.kubeconfig = {
      progress: { state: 'failed', reason: 'KubeconfigFailed', message: apiMessage(err) },
    };
    return;
  }
  await publishToConsumers(scope, ctx);
};

const deleteWorkers: TaskRunner = async (scope) => {
  await withdrawPublications(scope); // first, so no tool deploys to a cluster going away
  const { writer } = scope.deps;
  const ns = scope.cluster.metadata.namespace!;
  for (const md of scope.deployments.filter((d) => !d.metadata.deletionTimestamp)) {
    await writer.delete(resources.MachineDeployment, ns, md.metadata.name!);
  }
  // A pool deletes its own workers; only those no pool owns any more (it went first) are deleted here,
  // so that no Machine gets two deletes.
  const pools = new Set(scope.deployments.map((d) => d.metadata.name));
  const workers = scope.machines.filter((m) => m.spec.role === 'Worker');
  const orphans = workers.filter((w) => !pools.has(w.metadata.labels?.[DEPLOYMENT_NAME_LABEL] ?? ''));
  for (const m of orphans.filter((w) => !w.metadata.deletionTimestamp)) {
    await writer.delete(resources.Machine, ns, m.metadata.name!);
  }
  const left = [
    ...scope.deployments.map((d) => `MachineDeployment/${d.metadata.name}`),
    ...workers.map((m) => `Machine/${m.metadata.name}`),
  ];
  if (left.length > 0) {
    scope.deletion = { step: 'WaitingForWorkers', waitingFor: left.join(', ') };
    scope.requeueAfter(2_000);
  }
};

const deleteControlPlane: TaskRunner = async (scope) => {
  await withdrawPublications(scope);
  const { writer } = scope.deps;
  const ns = scope.cluster.metadata.namespace!;
  if (scope.controlPlane && !scope.controlPlane.metadata.deletionTimestamp) {
    await writer.delete(resources.ControlPlane, ns, scope.controlPlane.metadata.name!);
  }
  // As for workers: the ControlPlane deletes its members; here only those it no longer owns.
  const members = scope.machines.filter((m) => m.spec.role === 'ControlPlane');
  const owner = scope.controlPlane?.metadata.name;
  const orphans = members.filter((m) => m.metadata.labels?.[CONTROL_PLANE_NAME_LABEL] !== owner);
  for (const m of orphans.filter((x) => !x.metadata.deletionTimestamp)) {
    await writer.delete(resources.Machine, ns, m.metadata.name!);
  }
  const left = [
    ...(scope.controlPlane ? [`ControlPlane/${scope.controlPlane.metadata.name}`] : []),
    ...members.map((m) => `Machine/${m.metadata.name}`),
  ];
  if (left.length > 0) {
    scope.deletion = { step: 'WaitingForControlPlane', waitingFor: left.join(', ') };
    scope.requeueAfter(2_000);
  }
};

const deleteInfrastructure: TaskRunner = async (scope) => {
  // Registrations in other namespaces carry no owner reference: nothing else would remove them.
  if (!(await withdrawPublications(scope))) return;
  const progress = await scope.provider.deleteInfrastructure({ cluster: scope.cluster, log: scope.log });
  if (progress.state !== 'done') {
    scope.infrastructure = { progress };
    scope.deletion = {
      step: 'WaitingForInfrastructure',
      waitingFor: progress.state === 'failed' ? `${progress.reason}: ${progress.message}` : progress.message,
    };
    scope.requeueAfter(progress.state === 'inProgress' ? progress.requeueAfterMs : 15_000);
    return;
  }
  const ns = scope.cluster.metadata.namespace!;
  const name = scope.cluster.metadata.name!;
  // One list of the Secrets we made for this cluster (they carry its label) instead of a delete per name
  // that may never have existed (no user kubeconfig but for EKS, no certificates for a managed cluster).
  const ours = new Set([
    ...certificateSecretNames(name),
    kubeconfigSecretName(name),
    userKubeconfigSecretName(name),
  ]);
  const existing = await scope.deps.writer.listSecrets(ns, { [CLUSTER_NAME_LABEL]: name });
  for (const secret of existing) {
    const secretName = secret.metadata?.name;
    if (secretName && ours.has(secretName)) await scope.deps.writer.delete(resources.Secret, ns, secretName);
  }
  // The MachineTemplates it owns (template-owner.ts): its machines are gone, nothing needs them now.
  const templates = await releaseTemplates(scope.deps, scope.cluster);
  if (templates.length > 0) scope.log.info({ templates }, 'deleted the MachineTemplates of the cluster');
  scope.deps.certificates.forget(scope.cluster);
  scope.infrastructureDeleted = true;
};

const removeFinalizer: TaskRunner = async (scope) => {
  await scope.deps.writer.removeFinalizer(resources.Cluster, scope.cluster, FINALIZER);
};

/** Tasks that need no action here: the ControlPlane and MachineDeployment controllers do that work. */
const observedElsewhere: TaskRunner = async () => {};

export const taskRunners: Record<string, TaskRunner> = {
  ensureInfrastructure,
  ensureCertificates,
  ensureControlPlane: observedElsewhere,
  ensureWorkers: observedElsewhere,
  upgradeControlPlane: observedElsewhere,
  upgradeWorkers: observedElsewhere,
  scale: observedElsewhere,
  publishKubeconfig,
  deleteWorkers,
  deleteControlPlane,
  deleteInfrastructure,
  removeFinalizer,
};
