// The cluster endpoint: a loopback TCP load balancer (lb-process.mjs, a detached Node process) in
// front of the API servers that are ready. Its backends are kept in lb.json, which it re-reads.
import { readFile } from 'node:fs/promises';
import { isListening } from '../../src/net/ports.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import { childEnvironment, isRunning, startDetached, stopRecorded } from '../../src/supervisor/index.js';
import { installScript } from './scripts.js';
import {
  type ClusterPaths,
  type ClusterRecord,
  readJson,
  readMachineRecords,
  withLock,
  writeJson,
} from './state.js';

/** After this many unasked exits in a row, the load balancer is reported failed instead of restarted. */
const MAX_CRASHES = 5;

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
 * Keeps the load balancer process running (adopting it when it is) and reports done once it listens.
 * The caller saves the cluster record when it changed (the returned flag).
 */
export async function ensureLoadBalancer(
  cluster: ClusterPaths,
  record: ClusterRecord,
): Promise<{ progress: Progress; changed: boolean }> {
  await syncLoadBalancer(cluster, record);
  if (!isRunning(record.loadBalancer)) {
    if (record.loadBalancer && !record.loadBalancer.stopRequestedAt) {
      record.loadBalancer = undefined;
      record.loadBalancerCrashes = (record.loadBalancerCrashes ?? 0) + 1;
      if (record.loadBalancerCrashes >= MAX_CRASHES) {
        const tail = (await readFile(cluster.lbLog, 'utf8').catch(() => ''))
          .trimEnd()
          .split('\n')
          .slice(-3)
          .join('\n');
        return {
          progress: failed(
            'LoadBalancerCrashLoop',
            `the load balancer on 127.0.0.1:${record.endpoint.port} exited ${record.loadBalancerCrashes} times; last lines of ${cluster.lbLog}:\n${tail}`,
          ),
          changed: true,
        };
      }
    }
    const script = await installScript(cluster, 'lb-process.mjs');
    record.loadBalancer = startDetached('load balancer', [process.execPath, script, cluster.lbConfig], {
      logPath: cluster.lbLog,
      cwd: cluster.dir,
      env: childEnvironment(),
    }).record;
    return { progress: inProgress('load balancer started', 500), changed: true };
  }
  if (!(await isListening(record.endpoint.port))) {
    return { progress: inProgress('waiting for the load balancer to listen', 500), changed: false };
  }
  if (record.loadBalancerCrashes) {
    record.loadBalancerCrashes = 0;
    return { progress: done(), changed: true };
  }
  return { progress: done(), changed: false };
}

export async function stopLoadBalancer(
  record: ClusterRecord,
): Promise<{ stopped: boolean; changed: boolean }> {
  if (!record.loadBalancer) return { stopped: true, changed: false };
  const result = await stopRecorded(record.loadBalancer, { graceMs: 5_000, waitMs: 3_000 });
  record.loadBalancer = result.record;
  return { stopped: result.stopped, changed: true };
}
