// The dev environment behind `make demo` and `clusterforge dev up`: a local management plane
// (etcd + kube-apiserver), the CRDs, the operator, and a local cluster made by the operator, all
// running detached from the command that started them, in one folder (default .clusterforge/dev; its
// files: state.ts). This file is `dev up`, step by step; `dev down` is teardown.ts, `dev status`
// status.ts.
//
// A recorded process is adopted by the next `dev up` when its pid is alive AND /proc/<pid>/cmdline is
// its recorded command line; one that died is started again with the same command line (same ports,
// same certificates, same data), so that a reboot or a killed process costs nothing but a `dev up`.
// Nothing is ever started twice.
import { mkdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { VersionApi } from '@kubernetes/client-node';
import type { ProcessRecord } from '../supervisor/index.js';
import { resolveKubeAssets } from './assets.js';
import { installCRDs } from './crds.js';
import { DEFAULT_DEV_DIR } from './defaults.js';
import {
  applyCluster,
  type ClusterSettings,
  fetchClusterKubeconfig,
  waitClusterReady,
} from './demo-cluster.js';
import { helloImage, WORKLOAD } from './demo-workload.js';
import { ensureManagementPlane } from './dev-plane.js';
import { kubectl, kubectlOk } from './kubectl.js';
import { loadKubeConfig } from './objects.js';
import { ensureOperator } from './operator.js';
import { type Out, stdoutOut } from './output.js';
import { devPaths, lock } from './state.js';
import { showWorkload } from './workload-step.js';

export interface UpOptions extends ClusterSettings {
  dir: string;
  /** The whole wait for the cluster (and then for its workload), and each process's start. */
  timeoutMs: number;
  /** Asked explicitly (else the default of the management plane). */
  kubernetesVersionGiven: boolean;
}

/** How the user ran this CLI: `clusterforge` when installed on the PATH, else `node bin/clusterforge.js`. */
function cliInvocation(): string {
  const script = process.argv[1] ?? '';
  if (/(^|\/)clusterforge$/.test(script)) return 'clusterforge';
  return script.endsWith('.js') ? `node ${shownPath(script)}` : 'clusterforge';
}

/** A path relative to the working directory when it lies below it, else absolute. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !rel.startsWith('/') ? rel : path;
}

const pidText = (r: ProcessRecord | undefined): string => (r ? `pid ${r.pid}` : 'not recorded');

export async function devUp(opts: UpOptions, out: Out = stdoutOut): Promise<void> {
  const started = Date.now();
  const paths = devPaths(opts.dir);
  // Fail early, before anything is started, when the binaries of the cluster's version are missing.
  const assets = resolveKubeAssets(opts.kubernetesVersionGiven ? opts.kubernetesVersion : undefined);
  const settings: ClusterSettings = { ...opts, kubernetesVersion: assets.version };
  await kubectl('/dev/null', ['version', '--client']); // throws KubectlMissingError when there is none
  // The workload's image is loaded into the workers when they start: without workers it is optional.
  const image = opts.workers > 0 ? await helloImage() : await helloImage().catch(() => undefined);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const release = lock(paths);
  try {
    out.line(`Dev environment in ${paths.dir}`);

    const { state, how: planeHow } = await ensureManagementPlane(paths, () => assets, opts.timeoutMs);
    out.line(
      `  management plane  kube-apiserver ${state.version} at ${state.server} (${planeHow}; ` +
        `kube-apiserver ${pidText(state.apiServer)}, etcd ${pidText(state.etcd)}), kubeconfig ${shownPath(paths.kubeconfig)}`,
    );

    const crdCount = await installCRDs(paths, opts.timeoutMs);
    out.line(`  CRDs              ${crdCount} applied (kubectl apply --server-side)`);

    const operator = await ensureOperator(paths, state, opts.timeoutMs);
    out.line(
      `  operator          ${operator.how}; pid ${operator.record.pid}, metrics http://${operator.record.metricsAddress}/metrics, log ${shownPath(paths.operatorLog)}`,
    );

    for (const line of await applyCluster(paths, state, settings, image ? [image.archive] : []))
      out.line(`  ${line}`);

    const kc = loadKubeConfig(paths.kubeconfig);
    out.line(
      `Waiting for Cluster ${settings.name} (${settings.controlPlane} control-plane machine${settings.controlPlane === 1 ? '' : 's'}, ${settings.workers} worker${settings.workers === 1 ? '' : 's'}, Kubernetes ${settings.kubernetesVersion})`,
    );
    await waitClusterReady(kc, paths, state, settings.name, opts.timeoutMs);
    const readyAt = Date.now();

    const clusterKubeconfig = await fetchClusterKubeconfig(kc, paths, settings.name);
    const display = shownPath(clusterKubeconfig);
    out.line();
    out.line(`$ kubectl --kubeconfig ${display} get nodes -o wide`);
    const nodes = await kubectlOk(clusterKubeconfig, ['get', 'nodes', '-o', 'wide']);
    for (const line of nodes.trimEnd().split('\n')) out.line(line);
    const workload = loadKubeConfig(clusterKubeconfig);
    const version = await workload.makeApiClient(VersionApi).getCode();
    out.line();
    out.line(
      `Cluster ${settings.name} serves Kubernetes ${version.gitVersion} at ${workload.getCurrentCluster()?.server ?? '?'} ` +
        `(asked through its published kubeconfig, ${display})`,
    );
    out.line();
    const runsWorkload = image !== undefined && settings.workers > 0;
    if (image && runsWorkload) {
      await showWorkload(out, { kubeconfig: clusterKubeconfig, display, kc: workload }, image, {
        archiveShown: shownPath(image.archive),
        timeoutMs: opts.timeoutMs,
        readyAt,
      });
    } else {
      out.line(`Deployment ${WORKLOAD.name} skipped: with --workers 0 there is no node to run it on`);
    }
    out.line();
    out.line(
      `Ready in ${((Date.now() - started) / 1000).toFixed(1)} s. Everything keeps running; to use it:`,
    );
    const dirFlag = resolve(DEFAULT_DEV_DIR) === paths.dir ? '' : ` --dir ${paths.dir}`;
    const cli = cliInvocation();
    const usage: [string, string][] = [
      [`export KUBECONFIG=${paths.kubeconfig}`, 'the management cluster'],
      ['kubectl get clusterforge', 'its Clusters, ControlPlanes, MachineDeployments, Machines'],
      [`kubectl scale machinedeployment ${settings.name}-workers --replicas 3`, 'the operator adds a worker'],
      [`kubectl --kubeconfig ${display} get nodes`, `the new cluster ${settings.name}`],
      ...(runsWorkload
        ? ([
            [`kubectl --kubeconfig ${display} get pods -o wide`, `the ${WORKLOAD.name} pods and their nodes`],
            [
              `kubectl --kubeconfig ${display} port-forward deployment/${WORKLOAD.name} 8080:${WORKLOAD.port}`,
              'then http://127.0.0.1:8080/ answers',
            ],
          ] as [string, string][])
        : []),
      [`tail -f ${shownPath(paths.operatorLog)}`, "the operator's log"],
      [`${cli} dev status${dirFlag}`, 'what runs'],
      [
        `${cli} dev down${dirFlag}`,
        `stops everything and removes ${shownPath(paths.dir)}${dirFlag ? '' : ' (so does make demo-down)'}`,
      ],
    ];
    const width = Math.max(...usage.map(([command]) => command.length));
    for (const [command, what] of usage) out.line(`  ${command.padEnd(width)}   # ${what}`);
  } finally {
    release();
  }
}
