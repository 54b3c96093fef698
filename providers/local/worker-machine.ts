// A worker machine of the local provider is one of two kinds (its MachineTemplate's `worker`): a
// real kubelet with its own containerd (kubelet/), or a Simulated Node kept Ready by heart-beats
// (workers.ts). The record tells them apart once made: only a Kubelet worker has kubelet ports.
import type * as contract from '../../src/provider/contract.js';
import { done, failed, type Progress } from '../../src/provider/contract.js';
import { builtImage } from './kubelet/images.js';
import { ensureKubeletWorker, stopKubeletWorker } from './kubelet/node.js';
import { deleteOwnNode } from './node-object.js';
import type { MachineScope } from './scope.js';
import { ensureWorker, stopSimulatedWorker, type WorkloadClients } from './workers.js';

const DEFAULT_HEARTBEAT_SECONDS = 10;

export interface WorkerMachineOptions {
  providerID: string;
  /** The cluster endpoint. */
  server: string;
  clients: WorkloadClients;
  /** The kubelet binary of the machine's version (a Kubelet worker). */
  kubelet?: string;
  env: NodeJS.ProcessEnv;
  /** The provider's state root (node subnets are claimed there). */
  stateRoot: string;
}

/** Takes the next step towards a Ready worker of the template's kind. */
export async function ensureWorkerMachine(
  scope: MachineScope,
  ctx: contract.MachineContext,
  opts: WorkerMachineOptions,
): Promise<Progress> {
  const local = ctx.template.spec.template.spec.local;
  const { record } = scope;
  const labels = ctx.machine.metadata.labels ?? {};
  if (local?.worker !== 'Kubelet') {
    const heartbeatSeconds = local?.nodeHeartbeatSeconds ?? DEFAULT_HEARTBEAT_SECONDS;
    const spec = {
      clusterName: scope.cluster.name,
      version: ctx.machine.spec.version,
      providerID: opts.providerID,
      labels,
      heartbeatSeconds,
    };
    return await ensureWorker(scope, spec, opts.server, opts.clients);
  }
  const sandbox = await builtImage('pause', opts.env);
  if (!sandbox.found) return failed('SandboxImageMissing', sandbox.message);
  const { kubelet: kubeletPort, kubeletHealthz: healthzPort } = record.ports;
  if (!kubeletPort || !healthzPort || !opts.kubelet) {
    return failed('RoleMismatch', `machine ${record.name} was made as a Simulated worker`);
  }
  const spec = {
    providerID: opts.providerID,
    server: opts.server,
    clusterName: scope.cluster.name,
    serviceDomain: scope.network.serviceDomain,
    kubelet: opts.kubelet,
    kubeletPort,
    healthzPort,
    sandboxImage: sandbox.image.ref,
    images: [sandbox.image.archive, ...(local.images ?? [])],
    labels,
    stateRoot: opts.stateRoot,
    podBlock: scope.network.podCIDR,
  };
  return await ensureKubeletWorker(scope, spec, opts.clients);
}

/** Takes the next step in removing a worker of either kind: what runs it first, then its Node. */
export async function deleteWorkerMachine(
  scope: MachineScope,
  providerID: string,
  clients: WorkloadClients | undefined,
  stateRoot: string,
): Promise<Progress> {
  const stopped =
    scope.record.ports.kubelet !== undefined
      ? await stopKubeletWorker(scope, stateRoot)
      : await stopSimulatedWorker(scope, clients);
  if (stopped.state !== 'done') return stopped;
  if (clients) await deleteOwnNode(clients.core, scope.record.name, providerID);
  return done();
}
