// The cluster endpoint: a loopback TCP load balancer (lb-process.mjs, a detached Node process) in
// front of the API servers that are ready. Its backends are kept in lb.json, which it re-reads.
import type { Logger } from 'pino';
import { isListening } from '../../src/net/ports.js';
import { done, inProgress, type Progress } from '../../src/provider/contract.js';
import { crashesForgiven, type ProcessSlot } from '../../src/supervisor/index.js';
import { stopSupervised, superviseProcess } from './processes.js';
import { installScript } from './scripts.js';
import {
  type ClusterPaths,
  type ClusterRecord,
  readJson,
  readMachineRecords,
  withLock,
  writeJson,
} from './state.js';

export interface LoadBalancerBackend {
  name: string;
  host: string;
  port: number;
}

export interface LoadBalancerConfig {
  listen: { host: string; port: number };
  backends: LoadBalancerBackend[];
}

/**
 * Rewrites lb.json from the machine records: every control-plane machine whose API server is marked
 * `inLoadBalancer` and is not being deleted. Returns whether the file changed.
 */
export async function syncLoadBalancer(cluster: ClusterPaths, record: ClusterRecord): Promise<boolean> {
  return await withLock(`lb:${cluster.dir}`, async () => {
    const machines = await readMachineRecords(cluster);
    const backends = machines
      .filter(
        (m) => m.role === 'ControlPlane' && !m.deleting && m.apiServer?.inLoadBalancer && m.ports.apiServer,
      )
      .map((m) => ({ name: m.name, host: '127.0.0.1', port: m.ports.apiServer as number }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const config: LoadBalancerConfig = { listen: record.endpoint, backends };
    const current = await readJson<LoadBalancerConfig>(cluster.lbConfig);
    if (JSON.stringify(current) === JSON.stringify(config)) return false;
    await writeJson(cluster.lbConfig, config);
    return true;
  });
}

/** The backends the load balancer has been told about. */
export async function loadBalancerBackends(cluster: ClusterPaths): Promise<LoadBalancerBackend[]> {
  return (await readJson<LoadBalancerConfig>(cluster.lbConfig))?.backends ?? [];
}

/**
 * The load balancer's process slot. cluster.json has kept it in two flat fields since its first
 * schema (`loadBalancer`, `loadBalancerCrashes`), and running clusters have files in that form, so
 * the slot reads and writes those fields rather than moving them.
 */
function loadBalancerSlot(record: ClusterRecord): ProcessSlot {
  return {
    get process() {
      return record.loadBalancer;
    },
    set process(value) {
      record.loadBalancer = value;
    },
    get crashes() {
      return record.loadBalancerCrashes;
    },
    set crashes(value) {
      record.loadBalancerCrashes = value;
    },
  };
}

/**
 * Keeps the load balancer process running as every other process is kept (processes.ts: recorded
 * before the spawn, adopted by its command line after a crash), saving the cluster record as it
 * goes; done once it listens.
 */
export async function ensureLoadBalancer(
  cluster: ClusterPaths,
  record: ClusterRecord,
  log: Logger,
): Promise<Progress> {
  await syncLoadBalancer(cluster, record);
  const slot = loadBalancerSlot(record);
  const save = () => writeJson(cluster.record, record);
  const proc = await superviseProcess(slot, {
    what: `the load balancer on 127.0.0.1:${record.endpoint.port}`,
    argv: async () => [process.execPath, await installScript(cluster, 'lb-process.mjs'), cluster.lbConfig],
    save,
    logPath: cluster.lbLog,
    cwd: cluster.dir,
    log: log.child({ what: 'load balancer' }),
    crashLoopReason: 'LoadBalancerCrashLoop',
    crashPoint: 'spawn:load-balancer',
  });
  if (!proc.running) return proc.progress;
  if (proc.started) return inProgress('load balancer started', 500);
  if (!(await isListening(record.endpoint.port))) {
    return inProgress('waiting for the load balancer to listen', 500);
  }
  if (crashesForgiven(slot)) await save();
  return done();
}

/** Stops the load balancer (SIGKILL 5 s after the SIGTERM), saving the cluster record. */
export async function stopLoadBalancer(cluster: ClusterPaths, record: ClusterRecord): Promise<Progress> {
  return await stopSupervised(loadBalancerSlot(record), {
    what: 'the load balancer',
    save: () => writeJson(cluster.record, record),
    graceMs: 5_000,
  });
}
