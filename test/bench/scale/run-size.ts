// One size of the scale bench, on an API server of its own: create N clusters at once, wait for Ready, sit
// idle, restart the operator, snapshot one cluster, delete everything; then the floor (the same objects
// and statuses written by one plain client, no operator) in another namespace of the same API server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_NAME_LABEL } from '../../../src/api/v1alpha1/labels.js';
import { resources } from '../../../src/kube/resources.js';
import { KubeClient, resourcePath } from '../../../src/runtime/transport.js';
import { processesUnder } from '../../../src/supervisor/index.js';
import { startKubeEnv } from '../../env/kube-env.js';
import {
  diff,
  type OperatorProcess,
  progress,
  type Reading,
  repo,
  run,
  sleep,
  startOperatorProcess,
  total,
} from '../support.js';
import { apiServerProfileDir, profileApiServer, profileTop } from './apiserver-profile.js';
import {
  clusterManifests,
  create,
  inParallel,
  type Manifest,
  renamed,
  snapshotCluster,
  writeWithStatus,
} from './objects.js';
import { cpuMeter, cpuSeconds, peakRssMiB } from './procstat.js';
import { ReadyTracker } from './ready-tracker.js';

export interface ScaleOptions {
  clusters: number;
  idleMs: number;
  /** Extra `clusterforge operator` flags (e.g. --concurrency=4). */
  operatorArgs: string[];
}

export interface ScaleResult {
  clusters: number;
  createSeconds: number;
  ready: { p50?: number; p90?: number; p100?: number; count: number; waitedSeconds: number };
  operatorCpuSeconds: number;
  operatorPeakRssMiB: number;
  controlPlaneCpuSeconds: number;
  requestsToReady: Reading;
  idle: { minutes: number; requests: Reading; perClusterPerHour: number };
  restart: { seconds?: number };
  delete: { seconds?: number; requests: Reading };
  floor: { seconds: number; requests: number; objectsPerCluster: number };
  /** With APISERVER_PROFILE_DIR: the top of kube-apiserver's CPU profile while the clusters came up. */
  apiServerProfile?: string[];
}

const NAMESPACE = 'scale';
const FLOOR_NAMESPACE = 'floor';
/** The client creates clusters with this many requests in flight (kubectl apply of a folder sends one at a time). */
const CREATE_PARALLEL = 32;

export async function benchOneSize(opts: ScaleOptions): Promise<ScaleResult> {
  const n = opts.clusters;
  // Generous bounds: the bench reports what it saw by then rather than waiting forever.
  const readyDeadlineMs = Math.max(300_000, n * 600);
  const profileDir = apiServerProfileDir();
  const env = await startKubeEnv(profileDir ? { profiling: true } : {});
  const stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-scale-'));
  let operator: OperatorProcess | undefined;
  let tracker: ReadyTracker | undefined;
  const kill = (): void => operator?.killSync();
  process.once('exit', kill);
  try {
    const kubectl = (args: string[]) => run('kubectl', [`--kubeconfig=${env.kubeconfigPath}`, ...args]);
    await kubectl(['apply', '--server-side', '-f', join(repo, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(repo, 'crds')]);
    await kubectl(['create', 'namespace', NAMESPACE]);
    await kubectl(['create', 'namespace', FLOOR_NAMESPACE]);
    const client = new KubeClient(env.kubeConfig, { userAgent: 'clusterforge-scale-bench' });
    const controlPlanePids = (): number[] => processesUnder(env.dir).map((p) => p.pid);
    // CPU_PROFILE_DIR: each operator process writes a V8 CPU profile there when it stops (node --cpu-prof).
    const profile = process.env.CPU_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROFILE_DIR}`]
      : [];
    const startOperator = () =>
      startOperatorProcess(
        env.kubeconfigPath,
        { CLUSTERFORGE_STATE_DIR: stateDir },
        [`--namespace=${NAMESPACE}`, ...opts.operatorArgs],
        profile,
      );
    operator = await startOperator();
    tracker = new ReadyTracker(client, NAMESPACE);
    await tracker.start();

    const names = Array.from({ length: n }, (_, i) => `c${String(i).padStart(4, '0')}`);
    const manifests: Manifest[] = [];
    for (const name of names) manifests.push(...(await clusterManifests(NAMESPACE, name)));
    const requestsBefore = await operator.read('clusterforge_api_requests_total');
    const operatorCpu0 = cpuSeconds(operator.pid);
    const controlPlaneCpu = cpuMeter(controlPlanePids);
    progress(`scale ${n}: creating ${manifests.length} objects`);
    const started = performance.now();
    // The first 60 s of the climb (or less for a small N): creates and the operator's first steps.
    const profiling = profileDir
      ? profileApiServer(env.kubeconfigPath, profileDir, n, Math.min(60, Math.max(10, Math.round(n / 10))))
      : undefined;
    await inParallel(manifests, CREATE_PARALLEL, async (m) => {
      await create(client, m);
    });
    const createSeconds = (performance.now() - started) / 1000;
    progress(`scale ${n}: created in ${createSeconds.toFixed(1)} s; waiting for Ready`);
    while (tracker.readyAt.size < n && performance.now() - started < readyDeadlineMs) {
      await sleep(500);
      if (Math.round(performance.now() - started) % 10_000 < 500)
        progress(
          `scale ${n}: ${tracker.readyAt.size} Ready after ${((performance.now() - started) / 1000).toFixed(0)} s`,
        );
    }
    const waitedSeconds = (performance.now() - started) / 1000;
    const ready = {
      p50: tracker.secondsToShare(0.5, n, started),
      p90: tracker.secondsToShare(0.9, n, started),
      p100: tracker.secondsToShare(1, n, started),
      count: tracker.readyAt.size,
      waitedSeconds,
    };
    const apiServerProfile = profiling ? await profileTop(await profiling) : undefined;
    const requestsToReady = diff(await operator.read('clusterforge_api_requests_total'), requestsBefore);
    const operatorCpuSeconds = cpuSeconds(operator.pid) - operatorCpu0;
    const controlPlaneCpuSeconds = controlPlaneCpu();
    progress(`scale ${n}: ${ready.count} Ready; idle for ${opts.idleMs / 60_000} min`);

    const idleBefore = await operator.read('clusterforge_api_requests_total');
    await sleep(opts.idleMs);
    const idleRequests = diff(await operator.read('clusterforge_api_requests_total'), idleBefore);
    const perClusterPerHour = (total(idleRequests) / n) * (3_600_000 / opts.idleMs);
    const operatorPeakRssMiB = peakRssMiB(operator.pid);

    progress(`scale ${n}: restarting the operator`);
    await operator.stop();
    const restartStarted = performance.now();
    operator = await startOperator();
    const restartSeconds = await reconciledAgain(operator, n, restartStarted, readyDeadlineMs);

    const sample = names[0] as string;
    const snapshot = await snapshotCluster(client, NAMESPACE, sample);

    progress(`scale ${n}: deleting everything`);
    const deleteRequestsBefore = await operator.read('clusterforge_api_requests_total');
    const deleteStarted = performance.now();
    await inParallel(names, CREATE_PARALLEL, async (name) => {
      await client.request({
        method: 'DELETE',
        path: resourcePath(resources.Cluster, { namespace: NAMESPACE, name }),
      });
    });
    const deleteSeconds = await allGone(client, NAMESPACE, deleteStarted, readyDeadlineMs);
    const deleteRequests = diff(await operator.read('clusterforge_api_requests_total'), deleteRequestsBefore);
    await operator.stop();
    operator = undefined;

    progress(`scale ${n}: the floor (${snapshot.length} objects per cluster, one plain client)`);
    const floorStarted = performance.now();
    let floorRequests = 0;
    const copies = names.flatMap((name) => renamed(snapshot, sample, name, FLOOR_NAMESPACE));
    await inParallel(copies, CREATE_PARALLEL, async (obj) => {
      const sent = await writeWithStatus(client, obj);
      floorRequests += sent;
    });
    const floorSeconds = (performance.now() - floorStarted) / 1000;

    return {
      clusters: n,
      createSeconds,
      ready,
      operatorCpuSeconds,
      operatorPeakRssMiB,
      controlPlaneCpuSeconds,
      requestsToReady,
      idle: { minutes: opts.idleMs / 60_000, requests: idleRequests, perClusterPerHour },
      restart: { ...(restartSeconds !== undefined ? { seconds: restartSeconds } : {}) },
      delete: {
        ...(deleteSeconds !== undefined ? { seconds: deleteSeconds } : {}),
        requests: deleteRequests,
      },
      floor: { seconds: floorSeconds, requests: floorRequests, objectsPerCluster: snapshot.length },
      ...(apiServerProfile ? { apiServerProfile } : {}),
    };
  } finally {
    await tracker?.stop();
    await operator?.stop();
    process.removeListener('exit', kill);
    await env.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

/**
 * Seconds from the restart until every object was reconciled again: each controller has reconciled at
 * least as many times as it has objects, and no key waits or runs. Undefined if not within the deadline.
 */
async function reconciledAgain(
  operator: OperatorProcess,
  n: number,
  since: number,
  deadlineMs: number,
): Promise<number | undefined> {
  // 1 control-plane machine + 1 worker per cluster.
  const objects: Record<string, number> = {
    cluster: n,
    controlplane: n,
    machinedeployment: n,
    machine: 2 * n,
  };
  while (performance.now() - since < deadlineMs) {
    const reconciles = await operator.read('clusterforge_reconcile_total');
    const depth = total(await operator.read('clusterforge_workqueue_depth'));
    const inFlight = total(await operator.read('clusterforge_workqueue_in_flight'));
    const done = Object.entries(objects).every(([controller, count]) => {
      let sum = 0;
      for (const [labels, v] of reconciles) if (labels.includes(`controller="${controller}"`)) sum += v;
      return sum >= count;
    });
    if (done && depth === 0 && inFlight === 0) return (performance.now() - since) / 1000;
    await sleep(250);
  }
  return undefined;
}

/** Seconds until none of our kinds and no Secret of a cluster is left in `namespace`. */
async function allGone(
  client: KubeClient,
  namespace: string,
  since: number,
  deadlineMs: number,
): Promise<number | undefined> {
  const kinds = [resources.Cluster, resources.ControlPlane, resources.MachineDeployment, resources.Machine];
  while (performance.now() - since < deadlineMs) {
    let left = 0;
    for (const r of kinds) {
      const list = await client.request<{ items: unknown[] }>({
        method: 'GET',
        path: resourcePath(r, { namespace }),
        query: { limit: 1 },
      });
      left += list.items.length;
    }
    const secrets = await client.request<{ items: unknown[] }>({
      method: 'GET',
      path: resourcePath(resources.Secret, { namespace }),
      query: { labelSelector: CLUSTER_NAME_LABEL, limit: 1 },
    });
    left += secrets.items.length;
    if (left === 0) return (performance.now() - since) / 1000;
    await sleep(250);
  }
  return undefined;
}
