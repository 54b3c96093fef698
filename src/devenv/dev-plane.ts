// The dev environment's management plane: started once (management-plane.ts), every process recorded
// in state.json as soon as it is spawned; later `dev up`s adopt it, and start again with its recorded
// command line (same ports, certificates and data) whatever has died.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type DetachedProcess,
  isRunning,
  type ProcessHandle,
  type ProcessRecord,
  processesUnder,
  startDetached,
  stopRecorded,
  tailFile,
  waitReady,
} from '../supervisor/index.js';
import type { KubeAssets } from './assets.js';
import {
  adminTls,
  apiServerReady,
  etcdHealthy,
  managementPaths,
  startManagementPlane,
} from './management-plane.js';
import { type DevPaths, type DevState, readState, STATE_SCHEMA_VERSION, writeState } from './state.js';

const PLANE_NAME = 'clusterforge-dev';
const ADMIN_USER = 'clusterforge-dev-admin';

function detachedLauncher(
  paths: DevPaths,
  state: DevState,
): (name: string, command: string, args: string[], opts: { logPath: string; cwd?: string }) => ProcessHandle {
  return (name, command, args, opts) => {
    const proc: DetachedProcess = startDetached(name, [command, ...args], { ...opts, env: process.env });
    if (name === 'etcd') state.etcd = proc.record;
    else state.apiServer = proc.record;
    writeState(paths, state);
    return proc;
  };
}

/** Starts a recorded process again with its recorded command line. */
function relaunch(paths: DevPaths, name: string, record: ProcessRecord): DetachedProcess {
  if (record.argv.length === 0) throw new Error(`${paths.state}: the ${name} record has no command line`);
  return startDetached(name, record.argv, { logPath: record.logPath, cwd: paths.dir, env: process.env });
}

export interface PlaneResult {
  state: DevState;
  how: 'started' | 'running' | 'restarted';
}

export async function ensureManagementPlane(
  paths: DevPaths,
  assets: () => KubeAssets,
  timeoutMs: number,
): Promise<PlaneResult> {
  const existing = await readState(paths);
  if (!existing?.etcd || !existing.apiServer || !existing.server) {
    const strays = processesUnder(paths.dir);
    if (strays.length > 0) {
      throw new Error(
        `processes that this command did not record run from ${paths.dir} (pids ${strays
          .map((p) => p.pid)
          .join(', ')}); run \`clusterforge dev down --dir ${paths.dir}\` first`,
      );
    }
    const a = assets();
    const state: DevState = {
      schemaVersion: STATE_SCHEMA_VERSION,
      dir: paths.dir,
      version: a.version,
      server: '',
      etcdEndpoint: '',
      clusters: [],
      createdAt: new Date().toISOString(),
    };
    writeState(paths, state);
    const plane = await startManagementPlane({
      dir: paths.dir,
      assets: a,
      launch: detachedLauncher(paths, state),
      name: PLANE_NAME,
      adminUser: ADMIN_USER,
      what: 'starting the management plane',
      startTimeoutMs: timeoutMs,
    });
    state.server = plane.server;
    state.etcdEndpoint = plane.etcdEndpoint;
    writeState(paths, state);
    return { state, how: 'started' };
  }

  const state = existing;
  if (state.schemaVersion !== STATE_SCHEMA_VERSION) {
    throw new Error(
      `${paths.state} has schema version ${state.schemaVersion}, this clusterforge writes ${STATE_SCHEMA_VERSION}; run \`clusterforge dev down\` first`,
    );
  }
  let how: PlaneResult['how'] = 'running';
  const tls = adminTls(paths.dir);
  if (!isRunning(state.etcd)) {
    if (!existsSync(managementPaths(paths.dir).etcdDataDir)) {
      throw new Error(`etcd's data in ${paths.dir} is gone; run \`clusterforge dev down\` and start over`);
    }
    // etcd gone: kube-apiserver is useless without it, start both again in order.
    await stopRecorded(state.apiServer);
    const proc = relaunch(paths, 'etcd', state.etcd as ProcessRecord);
    state.etcd = proc.record;
    writeState(paths, state);
    await waitReady(() => etcdHealthy(state.etcdEndpoint), {
      what: 'restarting the management plane (run `clusterforge dev down` to start over)',
      timeoutMs,
      process: proc,
    });
    how = 'restarted';
  }
  // kube-apiserver: adopt it once ready; start it again when it is gone (also when it goes while we
  // wait: one that was asked to stop takes up to a minute to close its watches and exit).
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(state.apiServer)) {
      const proc = relaunch(paths, 'kube-apiserver', state.apiServer as ProcessRecord);
      state.apiServer = proc.record;
      writeState(paths, state);
      await waitReady(() => apiServerReady(state.server, tls), {
        what: 'restarting the management plane (run `clusterforge dev down` to start over)',
        timeoutMs,
        process: proc,
        intervalMs: 200,
      });
      how = 'restarted';
      break;
    }
    if (await apiServerReady(state.server, tls).catch(() => false)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `the management plane's kube-apiserver (pid ${state.apiServer?.pid}) runs but is not ready at ${state.server}\n` +
          `--- last lines of ${state.apiServer?.logPath} ---\n${tailFile(state.apiServer?.logPath ?? '')}`,
      );
    }
    await sleep(200);
  }
  return { state, how };
}
