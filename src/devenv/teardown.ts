// `dev down`: deletes the clusters through the operator (so that it tears down their processes),
// stops the operator and the management plane, then kills whatever still runs from the folder, and
// removes the folder. Safe when nothing runs; a cluster the operator cannot delete in time has its
// processes killed instead, and what its kubelet workers hold on the host swept (node-sweep.ts).
import { existsSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/meta.js';
import { isRunning, processesUnder, stopProcessesUnder, stopRecorded } from '../supervisor/index.js';
import { adminTls, apiServerReady } from './management-plane.js';
import { sweepKubeletNodes } from './node-sweep.js';
import { type KubeObject, listAll, loadKubeConfig, NAMESPACE } from './objects.js';
import { type Out, stdoutOut } from './output.js';
import { Progress } from './progress.js';
import { type DevPaths, type DevState, devPaths, lock, readState } from './state.js';

export interface DownOptions {
  dir: string;
  /** How long to wait for the operator to delete the clusters. */
  timeoutMs: number;
}

function deletionState(c: KubeObject): string {
  const state = c.status?.lifecycle?.state;
  return c.status?.phase === 'Deleting'
    ? `${c.metadata.name} Deleting${state ? ` (${state})` : ''}`
    : `${c.metadata.name} deletion requested`;
}

async function deleteClusters(paths: DevPaths, state: DevState, timeoutMs: number, out: Out): Promise<void> {
  const kc = loadKubeConfig(paths.kubeconfig);
  const clusters = await listAll(kc, 'clusters');
  if (clusters.length === 0) return;
  const api = kc.makeApiClient(CustomObjectsApi);
  for (const c of clusters) {
    await api
      .deleteNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: c.metadata.namespace ?? NAMESPACE,
        plural: 'clusters',
        name: c.metadata.name,
      })
      .catch((err: unknown) => {
        if ((err as { code?: number }).code !== 404) throw err;
      });
  }
  out.line(
    `Deleting ${clusters.map((c) => `Cluster ${c.metadata.namespace}/${c.metadata.name}`).join(', ')}`,
  );
  const progress = new Progress('Deleting');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [left, machines] = await Promise.all([listAll(kc, 'clusters'), listAll(kc, 'machines')]);
    if (left.length === 0) {
      progress.done('Clusters deleted by the operator');
      return;
    }
    progress.update(
      `${left.map(deletionState).join(', ')} · ${machines.length} machine${machines.length === 1 ? '' : 's'} left`,
    );
    if (!isRunning(state.operator)) {
      progress.fail();
      out.line("  the operator stopped; the clusters' processes are killed instead");
      return;
    }
    if (Date.now() > deadline) {
      progress.fail();
      out.line(
        `  not deleted after ${Math.round(timeoutMs / 1000)} s; their processes are killed instead (see ${paths.operatorLog})`,
      );
      return;
    }
    await sleep(500);
  }
}

export async function devDown(opts: DownOptions, out: Out = stdoutOut): Promise<void> {
  const paths = devPaths(opts.dir);
  if (!existsSync(paths.dir)) {
    const strays = await stopProcessesUnder(paths.dir);
    out.line(
      strays.length > 0
        ? `Stopped ${strays.length} process${strays.length === 1 ? '' : 'es'} still running from ${paths.dir}`
        : `Nothing runs in ${paths.dir}`,
    );
    return;
  }
  const release = lock(paths);
  try {
    const state = await readState(paths);
    out.line(`Stopping the dev environment in ${paths.dir}`);
    const tls = (() => {
      try {
        return adminTls(paths.dir);
      } catch {
        return undefined;
      }
    })();
    const apiUp =
      !!state &&
      !!tls &&
      isRunning(state.apiServer) &&
      existsSync(paths.kubeconfig) &&
      (await apiServerReady(state.server, tls).catch(() => false));
    if (state && apiUp && isRunning(state.operator)) {
      await deleteClusters(paths, state, opts.timeoutMs, out).catch((err: unknown) =>
        out.line(`  could not delete the clusters through the operator: ${(err as Error).message}`),
      );
    } else if (state && processesUnder(paths.providerState).length > 0) {
      out.line(
        `  ${apiUp ? 'the operator' : 'the management plane'} is not running: the clusters' processes are killed instead of deleted`,
      );
    }

    const stopped: string[] = [];
    if (state?.operator && isRunning(state.operator)) {
      await stopRecorded(state.operator, { graceMs: 15_000 });
      stopped.push(`operator (pid ${state.operator.pid})`);
    }
    // What follows is thrown away with the folder: a short grace period, then SIGKILL (a kube-apiserver
    // asked to stop otherwise takes up to a minute to close its watches).
    const graceMs = 3_000;
    const clusterProcs = await stopProcessesUnder(paths.providerState, graceMs);
    if (clusterProcs.length > 0)
      stopped.push(`${clusterProcs.length} cluster process${clusterProcs.length === 1 ? '' : 'es'}`);
    const sweep = await sweepKubeletNodes(paths.providerState);
    if (sweep.swept > 0)
      stopped.push(
        `what ${sweep.swept} kubelet node${sweep.swept === 1 ? '' : 's'} held (containers, cgroups, bridge)`,
      );
    if (state?.apiServer && isRunning(state.apiServer)) {
      await stopRecorded(state.apiServer, { graceMs });
      stopped.push(`kube-apiserver (pid ${state.apiServer.pid})`);
    }
    if (state?.etcd && isRunning(state.etcd)) {
      await stopRecorded(state.etcd, { graceMs });
      stopped.push(`etcd (pid ${state.etcd.pid})`);
    }
    const rest = await stopProcessesUnder(paths.dir, graceMs);
    if (rest.length > 0) stopped.push(`${rest.length} other process${rest.length === 1 ? '' : 'es'}`);
    if (sweep.left.length > 0) {
      throw new Error(
        `kubelet nodes still hold this on the host: ${sweep.left.map((n) => `${n.machine}: ${JSON.stringify(n.left)}`).join('; ')}`,
      );
    }
    const left = processesUnder(paths.dir);
    if (left.length > 0) {
      throw new Error(
        `processes still run from ${paths.dir} after SIGKILL: ${left.map((p) => `${p.pid} ${p.argv.join(' ').slice(0, 100)}`).join('; ')}`,
      );
    }
    release();
    rmSync(paths.dir, { recursive: true, force: true });
    out.line(`  stopped: ${stopped.length > 0 ? stopped.join(', ') : 'nothing was running'}`);
    out.line(`  removed ${paths.dir}`);
  } finally {
    release();
  }
}
