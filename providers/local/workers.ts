// A Simulated worker machine of the local provider is a Node registered in the workload cluster and kept
// alive by heart-beats (a Lease in kube-node-lease, the Ready condition's heartbeat time), renewed
// by a detached heartbeat-process.mjs that holds the node's own client certificate. No kubelet
// runs, so no pod ever runs on it.
import { arch, release } from 'node:os';
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1Lease, type V1Node } from '@kubernetes/client-node';
import type { TlsIdentity } from '../../src/net/https.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import { childEnvironment, crashesForgiven } from '../../src/supervisor/index.js';
import { workerFiles } from './certificates.js';
import { isNotFound, nodeReady, syncedLabels } from './node-object.js';
import { ensureProcess, type MachineScope, saveMachine, stopProcess } from './scope.js';
import { installScript } from './scripts.js';
import { writeJson } from './state.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface WorkloadClients {
  core: CoreV1Api;
  coordination: CoordinationV1Api;
}

/** Typed clients for the workload cluster, as its admin, through the cluster endpoint. */
export function workloadClients(server: string, admin: TlsIdentity): WorkloadClients {
  const kc = new KubeConfig();
  const b64 = (pem: string) => Buffer.from(pem, 'utf8').toString('base64');
  kc.loadFromOptions({
    clusters: [{ name: 'workload', server, caData: b64(admin.ca), skipTLSVerify: false }],
    users: [{ name: 'admin', certData: b64(admin.cert), keyData: b64(admin.key) }],
    contexts: [{ name: 'admin@workload', cluster: 'workload', user: 'admin' }],
    currentContext: 'admin@workload',
  });
  return { core: kc.makeApiClient(CoreV1Api), coordination: kc.makeApiClient(CoordinationV1Api) };
}

function goArch(): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ppc64: 'ppc64le',
    s390x: 's390x',
  };
  return map[arch()] ?? arch();
}

export interface WorkerSpec {
  clusterName: string;
  version: string;
  providerID: string;
  labels: Record<string, string>;
  heartbeatSeconds: number;
}

/** The Node object a worker machine registers. */
export function nodeFor(name: string, spec: WorkerSpec): V1Node {
  const now = new Date();
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': goArch(),
    'node.kubernetes.io/instance-type': 'clusterforge-local',
    ...syncedLabels(spec.clusterName, spec.labels),
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels,
      annotations: { 'clusterforge.dev/no-kubelet': 'true' },
    },
    spec: { providerID: spec.providerID },
    status: {
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      // No kubelet runs: nothing can be scheduled here.
      capacity: { pods: '0' },
      allocatable: { pods: '0' },
      nodeInfo: {
        architecture: goArch(),
        bootID: '',
        containerRuntimeVersion: 'none://',
        kernelVersion: release(),
        kubeProxyVersion: '',
        kubeletVersion: spec.version,
        machineID: '',
        operatingSystem: 'linux',
        osImage: 'clusterforge local provider (no kubelet)',
        systemUUID: '',
      },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'ClusterforgeHeartbeat',
          message: 'registered by the clusterforge local provider; heart-beats only, no kubelet runs',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
    },
  };
}

function leaseFresh(lease: V1Lease | undefined, now = Date.now()): boolean {
  const renew = lease?.spec?.renewTime;
  const duration = lease?.spec?.leaseDurationSeconds;
  if (!renew || !duration) return false;
  return now - new Date(renew).getTime() < duration * 1000;
}

/** Registers the Node, keeps its heartbeat process running; done when the Node is Ready with a fresh Lease. */
export async function ensureWorker(
  scope: MachineScope,
  spec: WorkerSpec,
  server: string,
  clients: WorkloadClients,
): Promise<Progress> {
  scope.record.worker ??= {};
  const worker = scope.record.worker;
  const name = scope.record.name;

  let node: V1Node | undefined;
  try {
    node = await clients.core.readNode({ name });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (node && node.spec?.providerID !== spec.providerID) {
    return failed('NodeNameTaken', `a Node named ${name} exists in the cluster and is not this machine's`);
  }
  if (!node) {
    node = await clients.core.createNode({ body: nodeFor(name, spec) });
    scope.log.info({ machine: name }, 'node registered');
  }
  if (worker.nodeUID !== node.metadata?.uid) {
    worker.nodeUID = node.metadata?.uid;
    await saveMachine(scope);
  }

  const files = workerFiles(scope.paths);
  const script = await installScript(scope.cluster, 'heartbeat-process.mjs');
  await writeJson(scope.paths.heartbeatConfig, {
    server,
    nodeName: name,
    caFile: files.caCert,
    certFile: files.nodeCert,
    keyFile: files.nodeKey,
    intervalSeconds: spec.heartbeatSeconds,
    leaseDurationSeconds: spec.heartbeatSeconds * 4,
  });
  worker.heartbeat ??= {};
  const heartbeat = worker.heartbeat;
  const proc = await ensureProcess(
    scope,
    heartbeat,
    'heartbeat',
    () => [process.execPath, script, scope.paths.heartbeatConfig],
    { logPath: scope.paths.heartbeatLog, cwd: scope.paths.dir, env: childEnvironment() },
  );
  if (!proc.running) return proc.progress;
  if (proc.started) return inProgress('heart-beats started', 1_000);

  let lease: V1Lease | undefined;
  try {
    lease = await clients.coordination.readNamespacedLease({ name, namespace: NODE_LEASE_NAMESPACE });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (!nodeReady(node) || !leaseFresh(lease))
    return inProgress("waiting for the node's first heart-beat", 1_000);
  if (crashesForgiven(heartbeat)) await saveMachine(scope);
  return done();
}

/** Stops the heart-beats, then deletes the node's Lease (worker-machine.ts deletes the Node). */
export async function stopSimulatedWorker(
  scope: MachineScope,
  clients: WorkloadClients | undefined,
): Promise<Progress> {
  const heartbeats = await stopProcess(scope, scope.record.worker?.heartbeat, 'the heart-beats', 3_000);
  if (heartbeats.state !== 'done' || !clients) return heartbeats;
  try {
    await clients.coordination.deleteNamespacedLease({
      name: scope.record.name,
      namespace: NODE_LEASE_NAMESPACE,
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return done();
}
