// The local provider's state on disk: one folder per cluster, one sub-folder per machine.
//
//   <root>/local/<namespace>/<cluster>/
//     cluster.json          the endpoint port, the load balancer's process, the etcd cluster token
//     lb.json               the load balancer's listen address and backends (it re-reads this file)
//     lb.log                the load balancer's log
//     etcd-bootstrap        the machine that starts a new etcd cluster (created exclusively)
//     bin/                  the helper scripts the detached processes run (copied here)
//     pki/                  CA certificates and the provider's own client certificates
//     machines/<machine>/
//       machine.json        role, version, ports, etcd membership, the process of each part
//       pki/                the machine's certificates
//       etcd/               etcd's data dir
//       logs/               etcd.log, kube-apiserver.log, kube-controller-manager.log,
//                           kube-scheduler.log, heartbeat.log
//
// <root> is $CLUSTERFORGE_STATE_DIR, else $XDG_STATE_HOME/clusterforge, else ~/.local/state/clusterforge.
import { randomUUID } from 'node:crypto';
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ProcessRecord, ProcessSlot } from '../../src/supervisor/index.js';

export const STATE_SCHEMA_VERSION = 1;

/** The state root of every provider; the local provider keeps its clusters under `<root>/local`. */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CLUSTERFORGE_STATE_DIR) return env.CLUSTERFORGE_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'clusterforge');
}

/** Names become path segments: accept only what Kubernetes accepts as a name. */
const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function segment(kind: string, name: string | undefined): string {
  if (!name || !SAFE_NAME.test(name) || name.includes('..') || name.length > 253) {
    throw new Error(`${kind} name '${name ?? ''}' is not a valid Kubernetes name`);
  }
  return name;
}

export interface ClusterPaths {
  namespace: string;
  name: string;
  dir: string;
  record: string;
  lbConfig: string;
  lbLog: string;
  etcdBootstrap: string;
  binDir: string;
  pkiDir: string;
  machinesDir: string;
}

export function clusterPaths(
  root: string,
  namespace: string | undefined,
  name: string | undefined,
): ClusterPaths {
  const dir = join(root, 'local', segment('namespace', namespace), segment('cluster', name));
  return {
    namespace: namespace as string,
    name: name as string,
    dir,
    record: join(dir, 'cluster.json'),
    lbConfig: join(dir, 'lb.json'),
    lbLog: join(dir, 'lb.log'),
    etcdBootstrap: join(dir, 'etcd-bootstrap'),
    binDir: join(dir, 'bin'),
    pkiDir: join(dir, 'pki'),
    machinesDir: join(dir, 'machines'),
  };
}

export interface MachinePaths {
  name: string;
  dir: string;
  record: string;
  pkiDir: string;
  etcdDataDir: string;
  logsDir: string;
  etcdLog: string;
  apiServerLog: string;
  heartbeatLog: string;
  heartbeatConfig: string;
}

export function machinePaths(cluster: ClusterPaths, name: string | undefined): MachinePaths {
  const dir = join(cluster.machinesDir, segment('machine', name));
  const logsDir = join(dir, 'logs');
  return {
    name: name as string,
    dir,
    record: join(dir, 'machine.json'),
    pkiDir: join(dir, 'pki'),
    etcdDataDir: join(dir, 'etcd'),
    logsDir,
    etcdLog: join(logsDir, 'etcd.log'),
    apiServerLog: join(logsDir, 'kube-apiserver.log'),
    heartbeatLog: join(logsDir, 'heartbeat.log'),
    heartbeatConfig: join(dir, 'heartbeat.json'),
  };
}

export interface ClusterRecord {
  schemaVersion: number;
  namespace: string;
  name: string;
  /** The Cluster object's uid, when it had one: a folder left by an older cluster of the same name is told apart. */
  uid?: string;
  createdAt: string;
  endpoint: { host: string; port: number };
  /** --initial-cluster-token of the cluster's etcd: unique per cluster. */
  etcdToken: string;
  loadBalancer?: ProcessRecord;
  /** Exits of the load balancer nobody asked for, in a row. */
  loadBalancerCrashes?: number;
}

export interface EtcdState {
  /** How this member started: the founder of a new cluster, or a member added to an existing one. */
  initialClusterState?: 'new' | 'existing';
  /** --initial-cluster, fixed when the member was added (etcd reads it on the first start only). */
  initialCluster?: string;
  /** The member ID (decimal uint64), once known. */
  memberId?: string;
  /** A voting member (a founder, or a learner that has been promoted). */
  voting?: boolean;
  process?: ProcessRecord;
  /** Exits nobody asked for, in a row. */
  crashes?: number;
}

export interface ApiServerState {
  process?: ProcessRecord;
  crashes?: number;
  /** /readyz answered ok at least once since the process started. */
  ready?: boolean;
  /** Listed as a backend in lb.json. */
  inLoadBalancer?: boolean;
}

export interface WorkerState {
  /** The Node's uid in the workload cluster, once registered. */
  nodeUID?: string;
  /** The heartbeat process (a Simulated worker). */
  heartbeat?: { process?: ProcessRecord; crashes?: number };
  /** node-init.sh: containerd and the kubelet (a Kubelet worker). */
  kubelet?: ProcessSlot;
  /** The Kubelet worker's pod subnet (x.y.z.0/24), claimed host-wide. */
  podSubnet?: string;
}

export interface MachineRecord {
  schemaVersion: number;
  name: string;
  role: 'ControlPlane' | 'Worker';
  version: string;
  createdAt: string;
  /** Set once deletion has started: the machine is never started again. */
  deleting?: boolean;
  ports: {
    etcdClient?: number;
    etcdPeer?: number;
    apiServer?: number;
    kubelet?: number;
    kubeletHealthz?: number;
  };
  etcd?: EtcdState;
  apiServer?: ApiServerState;
  /** kube-controller-manager and kube-scheduler of a control-plane machine. */
  components?: Partial<Record<'kube-controller-manager' | 'kube-scheduler', ProcessSlot>>;
  worker?: WorkerState;
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Writes a file so that a reader sees the old or the new content, never a half-written one. The
 * content is flushed to disk before the rename: a record of intent (a process about to be spawned)
 * must outlive a lost host as well as a killed operator.
 */
export async function writeFileAtomic(path: string, content: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${randomUUID().slice(0, 8)}.tmp`;
  const file = await open(tmp, 'w', mode);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}

export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function removeDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** The machine folders of a cluster (a folder without a readable record is still listed). */
export async function machineNames(cluster: ClusterPaths): Promise<string[]> {
  try {
    const entries = await readdir(cluster.machinesDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function readMachineRecords(cluster: ClusterPaths): Promise<MachineRecord[]> {
  const records: MachineRecord[] = [];
  for (const name of await machineNames(cluster)) {
    const record = await readJson<MachineRecord>(machinePaths(cluster, name).record);
    if (record) records.push(record);
  }
  return records;
}

const locks = new Map<string, Promise<unknown>>();

/**
 * Runs fn while holding an in-process lock on key. Calls for different machines of one cluster may
 * run concurrently; what they share on disk (lb.json, the etcd bootstrap) is changed under a lock.
 */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}
