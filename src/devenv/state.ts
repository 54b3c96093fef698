// The folder of the dev environment (default .clusterforge/dev): where each file lives, state.json
// (what runs, so that the next command adopts it) and the lock that keeps two dev commands apart.
//
//   <dir>/state.json          what runs: pids and full command lines, endpoints, the build of the operator
//   <dir>/kubeconfig          the management cluster's admin kubeconfig
//   <dir>/pki/, etcd-data/    the management plane's certificates and data
//   <dir>/etcd.log, kube-apiserver.log, operator.log
//   <dir>/state/              CLUSTERFORGE_STATE_DIR of the operator: the local provider's clusters
//   <dir>/<cluster>.kubeconfig  a cluster's published kubeconfig, as fetched by `dev up`
import { closeSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJson } from '../../providers/local/state.js';
import { type ProcessRecord, pidAlive } from '../supervisor/index.js';

export const STATE_SCHEMA_VERSION = 1;

export interface OperatorRecord extends ProcessRecord {
  /** host:port of /healthz, /readyz and /metrics. */
  metricsAddress: string;
  /** A hash of the code the operator runs: a rebuilt CLI restarts it. */
  build: string;
}

export interface DevState {
  schemaVersion: number;
  dir: string;
  /** The management plane's Kubernetes version. */
  version: string;
  server: string;
  etcdEndpoint: string;
  etcd?: ProcessRecord;
  apiServer?: ProcessRecord;
  operator?: OperatorRecord;
  /** The clusters `dev up` applied (namespace default). */
  clusters: string[];
  createdAt: string;
}

export interface DevPaths {
  dir: string;
  state: string;
  lock: string;
  kubeconfig: string;
  operatorLog: string;
  /** The operator's CLUSTERFORGE_STATE_DIR. */
  providerState: string;
  clusterKubeconfig(name: string): string;
}

export function devPaths(dir: string): DevPaths {
  const abs = resolve(dir);
  return {
    dir: abs,
    state: join(abs, 'state.json'),
    lock: join(abs, '.lock'),
    kubeconfig: join(abs, 'kubeconfig'),
    operatorLog: join(abs, 'operator.log'),
    providerState: join(abs, 'state'),
    clusterKubeconfig: (name) => join(abs, `${name}.kubeconfig`),
  };
}

/** state.json, or undefined when there is none yet. */
export async function readState(paths: DevPaths): Promise<DevState | undefined> {
  try {
    return await readJson<DevState>(paths.state);
  } catch (err) {
    // A file that cannot be read says so as it is; one that is not JSON says how to start over.
    if ((err as NodeJS.ErrnoException).code) throw err;
    throw new Error(`${(err as Error).message}; run \`clusterforge dev down\` to start over`);
  }
}

/**
 * Written synchronously: a process is recorded right after its spawn, before anything else can
 * happen (the management plane's launcher is synchronous).
 */
export function writeState(paths: DevPaths, state: DevState): void {
  const tmp = `${paths.state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, paths.state);
}

/**
 * Takes <dir>/.lock (created exclusively, holding our pid) so that two dev commands never work on one
 * folder at once; a lock whose process is gone is taken over. Returns the release function.
 */
export function lock(paths: DevPaths): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(paths.lock, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      const release = (): void => {
        try {
          if (readFileSync(paths.lock, 'utf8').trim() === String(process.pid)) unlinkSync(paths.lock);
        } catch {
          // gone already (dev down removes the folder)
        }
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(paths.lock, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 1 && holder !== process.pid && pidAlive(holder)) {
        throw new Error(
          `another clusterforge dev command (pid ${holder}) is working on ${paths.dir}; wait for it, or stop it`,
        );
      }
      rmSync(paths.lock, { force: true });
    }
  }
  throw new Error(`cannot take the lock ${paths.lock}`);
}
