// A real Kubernetes control plane for tests: one etcd and one kube-apiserver, started as child
// processes on free 127.0.0.1 ports, with their own certificates, in a folder of their own. How they are
// started, probed and given a kubeconfig is src/devenv/management-plane.ts (the dev environment runs the
// same, detached); what is the test harness's own is that they die with the test process
// (./processes.ts: exit hooks and a reaper).
//
// What runs, and what does not (as in controller-runtime's envtest):
// - etcd (single member, plain HTTP on loopback, no fsync) and kube-apiserver (TLS, client-certificate
//   and ServiceAccount-token authentication, RBAC authorization, the built-in admission chain).
// - No kube-controller-manager and no scheduler: namespaces are not emptied when deleted (they stay
//   Terminating), no ServiceAccount "default" appears in a new namespace, garbage collection of owned
//   objects does not happen, pods are never scheduled. For that reason the ServiceAccount admission
//   plugin is off (it would refuse every pod for want of the "default" ServiceAccount).
// - The endpoint reconciler is off: with it, kube-apiserver refuses to start on a loopback
//   --advertise-address ("may not be in the loopback range"). So the "kubernetes" Service in
//   "default" has no endpoints; nothing here needs them.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startManagementPlane } from '../../src/devenv/management-plane.js';
import { guardDir, removeGuardedDir, spawnTied } from '../../src/supervisor/index.js';
import { resolveKubeAssets } from './assets.js';

export interface KubeEnvOptions {
  /** Kubernetes version (v1.MINOR.PATCH); default: KUBEBUILDER_ASSETS's, else the first of hack/kube-versions. */
  version?: string;
  /** Folder for certificates, data, logs and the kubeconfig. Default: a new temp folder, removed by stop(). A given folder is kept. */
  dir?: string;
  /** How long to wait for each of etcd and kube-apiserver to become ready. Default 90 s. */
  startTimeoutMs?: number;
  /**
   * The API server's watch cache (default on, as in every real cluster). With it off, every watch and
   * list is served by etcd: a watch from a compacted resourceVersion fails with 410 at once after
   * compactEtcd(), but no periodic BOOKMARK events are sent (only the watch cache sends them).
   */
  watchCache?: boolean;
  /** kube-apiserver serves /debug/pprof (the scale bench's APISERVER_PROFILE). Default off. */
  profiling?: boolean;
}

export interface KubeEnv {
  /** The kube-apiserver's version, e.g. v1.37.2. */
  readonly version: string;
  readonly dir: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  readonly kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Loaded from kubeconfigPath. */
  readonly kubeConfig: KubeConfig;
  /** http://127.0.0.1:<port> */
  readonly etcdEndpoint: string;
  readonly etcdDataDir: string;
  /** Stops the kube-apiserver process and starts it again on the same port; resolves once /readyz is ok. */
  restartApiServer(): Promise<void>;
  /**
   * Compacts etcd at its current revision (and records it where kube-apiserver's own compactor does).
   * Whatever etcd serves at an older resourceVersion then fails with 410 Gone. The API server's watch
   * cache, though, keeps serving watches (and exact lists) from its own history: for a 410 on a watch,
   * follow with restartApiServer() (the new cache starts at the current revision, as after a real
   * API server restart), or start the environment with `watchCache: false`.
   */
  compactEtcd(): Promise<void>;
  /** Stops both processes and removes the folder (unless it was given). Safe to call twice. */
  stop(): Promise<void>;
}

const CLUSTER_NAME = 'clusterforge-test';
const ADMIN_USER = 'clusterforge-test-admin';

/** Starts etcd and kube-apiserver; resolves once the API server's /readyz is ok. */
export async function startKubeEnv(opts: KubeEnvOptions = {}): Promise<KubeEnv> {
  const assets = resolveKubeAssets(opts.version);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'clusterforge-kube-'));
  if (ownDir) guardDir(dir);
  let plane: Awaited<ReturnType<typeof startManagementPlane>>;
  try {
    plane = await startManagementPlane({
      dir,
      assets,
      launch: (name, command, args, o) => spawnTied(name, command, args, o),
      name: CLUSTER_NAME,
      adminUser: ADMIN_USER,
      what: 'starting the test Kubernetes environment',
      ...(opts.startTimeoutMs !== undefined ? { startTimeoutMs: opts.startTimeoutMs } : {}),
      ...(opts.watchCache !== undefined ? { watchCache: opts.watchCache } : {}),
      ...(opts.profiling ? { profiling: true } : {}),
    });
  } catch (err) {
    // The error carries the tail of the failing process's log; a folder we made is removed.
    if (ownDir) removeGuardedDir(dir);
    throw err;
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(plane.kubeconfigPath);
  let stopped = false;
  return {
    version: plane.version,
    dir,
    kubeconfigPath: plane.kubeconfigPath,
    server: plane.server,
    kubeConfig,
    etcdEndpoint: plane.etcdEndpoint,
    etcdDataDir: plane.etcdDataDir,
    async restartApiServer(): Promise<void> {
      if (stopped) throw new Error('restartApiServer: the test Kubernetes environment is stopped');
      await plane.restartApiServer();
    },
    compactEtcd: () => plane.compactEtcd(),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await plane.stop();
      if (ownDir) removeGuardedDir(dir);
    },
  };
}
