// The demo cluster: the local template rendered with the `dev up` flags, applied to the management
// cluster, and waited on until the operator has made it Ready and its own API server answers through
// the kubeconfig the operator published.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { GROUP } from '../api/v1alpha1/meta.js';
import { isRunning, tailFile } from '../supervisor/index.js';
import { renderTemplate } from '../templates/render.js';
import { packageRoot } from './assets.js';
import { kubectl, kubectlOk } from './kubectl.js';
import { conditionOf, FIELD_MANAGER, getObject, type KubeObject, NAMESPACE } from './objects.js';
import { Progress } from './progress.js';
import { type DevPaths, type DevState, writeState } from './state.js';

export interface ClusterSettings {
  name: string;
  kubernetesVersion: string;
  controlPlane: number;
  workers: number;
}

/** `images`: the OCI archives each kubelet worker loads (the demo's hello image). */
function renderCluster(settings: ClusterSettings, images: string[]): string {
  const template = readFileSync(join(packageRoot, 'templates', 'local', 'cluster-template.yaml'), 'utf8');
  return renderTemplate(template, {
    CLUSTER_NAME: settings.name,
    NAMESPACE,
    KUBERNETES_VERSION: settings.kubernetesVersion,
    CONTROL_PLANE_MACHINE_COUNT: String(settings.controlPlane),
    WORKER_MACHINE_COUNT: String(settings.workers),
    LOCAL_NODE_IMAGES: JSON.stringify(images),
  });
}

/**
 * Applies the cluster (server-side, so that a second run changes only what the flags changed) and
 * records its name for `dev down`; resolves with kubectl's lines, one per object.
 */
export async function applyCluster(
  paths: DevPaths,
  state: DevState,
  settings: ClusterSettings,
  images: string[],
): Promise<string[]> {
  const applied = await kubectlOk(
    paths.kubeconfig,
    ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
    { input: renderCluster(settings, images) },
  );
  if (!state.clusters.includes(settings.name)) {
    state.clusters.push(settings.name);
    writeState(paths, state);
  }
  return applied.trim().split('\n');
}

interface ClusterView {
  ready: boolean;
  summary: string;
}

async function viewCluster(kc: KubeConfig, name: string): Promise<ClusterView> {
  const [cluster, cp, md] = await Promise.all([
    getObject(kc, 'clusters', name),
    getObject(kc, 'controlplanes', `${name}-control-plane`),
    getObject(kc, 'machinedeployments', `${name}-workers`),
  ]);
  if (!cluster) return { ready: false, summary: `Cluster ${name} not found` };
  const s = cluster.status ?? {};
  const counts = (o: KubeObject | undefined): string =>
    o ? `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? '?'}` : '-';
  const parts = [
    `phase ${s.phase ?? 'Pending'}${s.lifecycle?.state ? ` (${s.lifecycle.state})` : ''}`,
    `control plane ${counts(cp)}`,
    `workers ${counts(md)}`,
  ];
  const blocking = (s.conditions ?? []).find((c) => c.type !== 'Ready' && c.status !== 'True');
  if (s.failureReason || s.failureMessage)
    parts.push(`failed: ${s.failureReason ?? ''} ${s.failureMessage ?? ''}`.trim());
  else if (blocking) parts.push(`${blocking.type}: ${blocking.reason ?? blocking.status}`);
  const current = (o: KubeObject | undefined): boolean =>
    !!o && (o.status?.observedGeneration ?? 0) >= (o.metadata.generation ?? 0);
  const allReplicas = (o: KubeObject | undefined): boolean =>
    !!o && o.status?.readyReplicas === o.spec?.replicas && (o.status?.replicas ?? 0) === o.spec?.replicas;
  const ready =
    conditionOf(cluster, 'Ready')?.status === 'True' &&
    current(cluster) &&
    current(cp) &&
    current(md) &&
    allReplicas(cp) &&
    allReplicas(md);
  return { ready, summary: parts.join(' · ') };
}

export async function waitClusterReady(
  kc: KubeConfig,
  paths: DevPaths,
  state: DevState,
  name: string,
  timeoutMs: number,
): Promise<number> {
  const progress = new Progress(`Cluster ${name}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let view: ClusterView;
    try {
      view = await viewCluster(kc, name);
    } catch (err) {
      view = { ready: false, summary: `cannot read the Cluster: ${(err as Error).message}` };
    }
    if (view.ready) {
      // The status may be older than this operator (restarted after a reboot, say): believe it once
      // the cluster's own API server answers through the published kubeconfig.
      const answer = await workloadAnswers(kc, paths, name);
      if (answer === true) {
        progress.done(`Cluster ${name} is Ready`);
        return progress.seconds();
      }
      view = { ready: false, summary: `${view.summary} · its API server does not answer yet (${answer})` };
    }
    progress.update(view.summary);
    if (!isRunning(state.operator)) {
      progress.fail();
      throw new Error(
        `the operator stopped while the cluster was being made\n--- last lines of ${paths.operatorLog} ---\n${tailFile(paths.operatorLog)}`,
      );
    }
    if (Date.now() > deadline) {
      progress.fail();
      throw new Error(
        `Cluster ${name} is not Ready after ${Math.round(timeoutMs / 1000)} s (${view.summary}).\n` +
          `The environment keeps running: look at \`kubectl --kubeconfig ${paths.kubeconfig} describe clusters.${GROUP} ${name}\` ` +
          `and ${paths.operatorLog}, run \`clusterforge dev up\` again to wait more, or \`clusterforge dev down\`.`,
      );
    }
    await sleep(progress.seconds() < 1 ? 200 : 500);
  }
}

/** true when the cluster's /readyz answers ok through its published kubeconfig, else why not. */
async function workloadAnswers(kc: KubeConfig, paths: DevPaths, name: string): Promise<true | string> {
  try {
    const path = await fetchClusterKubeconfig(kc, paths, name);
    const res = await kubectl(path, ['get', '--raw', '/readyz', '--request-timeout=3s'], {
      timeoutMs: 5_000,
    });
    return res.code === 0 ? true : res.stderr.trim().split('\n').pop() || `kubectl exit ${res.code}`;
  } catch (err) {
    return (err as Error).message;
  }
}

export async function fetchClusterKubeconfig(kc: KubeConfig, paths: DevPaths, name: string): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: `${name}-kubeconfig`, namespace: NAMESPACE });
  const value = secret.data?.value;
  if (!value) throw new Error(`the Secret ${NAMESPACE}/${name}-kubeconfig has no key 'value'`);
  const path = paths.clusterKubeconfig(name);
  writeFileSync(path, Buffer.from(value, 'base64'), { mode: 0o600 });
  return path;
}
