// A kubelet worker: node-init.sh (containerd + kubelet in a namespace of their own) kept running,
// the Node it registers initialized by us (initialize.ts), done once the Node is Ready. Deleting
// it stops the process, removes what it held on the host (host.ts), then the Node object.
import { ApiException, type V1Node } from '@kubernetes/client-node';
import { done, failed, inProgress, type Progress } from '../../../src/provider/contract.js';
import { crashesForgiven } from '../../../src/supervisor/index.js';
import { nodeReady, syncedLabels } from '../node-object.js';
import { ensureProcess, type MachineScope, saveMachine, stopProcess } from '../scope.js';
import { installScript } from '../scripts.js';
import type { WorkloadClients } from '../workers.js';
import { type NodeSettings, nodePaths, writeNodeFiles } from './files.js';
import { hostLeftovers, nothingLeft, removeFromHost } from './host.js';
import { initializeNode, isInitialized } from './initialize.js';
import { claimNodeSubnet, releaseNodeSubnet } from './subnets.js';

const status = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

/** Paths a kubelet node hides in its own namespace: state kept below them would be hidden from it too. */
const HIDDEN = ['/run/', '/var/run/', '/var/lib/', '/var/log/'];

export interface KubeletWorkerSpec extends Omit<NodeSettings, 'nodeName' | 'subnet'> {
  labels: Record<string, string>;
  /** The provider's state root: node subnets are claimed there, host-wide. */
  stateRoot: string;
  /** The cluster's pod block, which the node's /24 is taken from. */
  podBlock: string;
}

export async function ensureKubeletWorker(
  scope: MachineScope,
  spec: KubeletWorkerSpec,
  clients: WorkloadClients,
): Promise<Progress> {
  const name = scope.record.name;
  const hidden = HIDDEN.find((p) => `${scope.paths.dir}/`.startsWith(p));
  if (hidden) {
    return failed(
      'StateDirHidden',
      `the machine folder ${scope.paths.dir} is under ${hidden}, which a kubelet node replaces with its own; set CLUSTERFORGE_STATE_DIR elsewhere`,
    );
  }
  scope.record.worker ??= {};
  const worker = scope.record.worker;
  worker.kubelet ??= {};
  const slot = worker.kubelet;
  const script = await installScript(scope.cluster, 'node-init.sh');
  const subnet = await claimNodeSubnet(spec.stateRoot, spec.podBlock, scope.paths.dir, worker.podSubnet);
  if (worker.podSubnet !== subnet.cidr) {
    worker.podSubnet = subnet.cidr;
    await saveMachine(scope);
  }
  const proc = await ensureProcess(
    scope,
    slot,
    'kubelet node',
    () => writeNodeFiles(scope.paths, { ...spec, nodeName: name, subnet }, script),
    { logPath: `${nodePaths(scope.paths).logsDir}/node-init.log`, cwd: scope.paths.dir },
  );
  if (!proc.running) return proc.progress;
  if (proc.started) return inProgress('containerd and kubelet started', 1_000);

  let node: V1Node;
  try {
    node = await clients.core.readNode({ name });
  } catch (err) {
    if (status(err) === 404) return inProgress('waiting for the kubelet to register its Node', 1_000);
    throw err;
  }
  if (node.spec?.providerID !== spec.providerID) {
    return failed('NodeNameTaken', `a Node named ${name} exists in the cluster and is not this machine's`);
  }
  if (worker.nodeUID !== node.metadata?.uid) {
    worker.nodeUID = node.metadata?.uid;
    await saveMachine(scope);
    scope.log.info({ machine: name }, 'node registered by its kubelet');
  }
  if (!isInitialized(node)) {
    try {
      await initializeNode(clients.core, node, syncedLabels(spec.clusterName, spec.labels), subnet.cidr);
    } catch (err) {
      if (status(err) === 409) return inProgress('the Node changed while it was initialized', 500);
      throw err;
    }
    return inProgress('node initialized', 500);
  }
  if (!nodeReady(node)) return inProgress('waiting for the Node to be Ready', 1_000);
  if (crashesForgiven(slot)) await saveMachine(scope);
  return done();
}

/** Stops the node and removes it from the host: nothing of it may be left (worker-machine.ts deletes the Node). */
export async function stopKubeletWorker(scope: MachineScope, stateRoot: string): Promise<Progress> {
  const stopped = await stopProcess(scope, scope.record.worker?.kubelet, 'the kubelet node', 10_000);
  if (stopped.state !== 'done') return stopped;
  const paths = nodePaths(scope.paths);
  const left = await removeFromHost(paths);
  if (!nothingLeft(left)) {
    return inProgress(
      `removing the node from the host: ${left.processes.length} process(es), ${left.cgroups.length} cgroup(s)${left.bridge ? ', its bridge' : ''} left`,
      1_000,
    );
  }
  const subnet = scope.record.worker?.podSubnet;
  if (subnet) await releaseNodeSubnet(stateRoot, subnet, scope.paths.dir);
  return done();
}

export { hostLeftovers, nodePaths };
