// `dev status`: what runs in the dev environment (its processes, by their records) and the clusters
// the management cluster holds; as a report (for -o json) and as text.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isRunning, type ProcessRecord, processesUnder } from '../supervisor/index.js';
import { conditionOf, listAll, loadKubeConfig, NAMESPACE } from './objects.js';
import { type Out, stdoutOut } from './output.js';
import { devPaths, readState } from './state.js';

export interface StatusReport {
  dir: string;
  exists: boolean;
  running: boolean;
  kubeconfig?: string;
  version?: string;
  components: { name: string; pid?: number; running: boolean; endpoint?: string; log?: string }[];
  clusters: {
    namespace: string;
    name: string;
    phase?: string;
    ready: boolean;
    endpoint?: string;
    version?: string;
    kubeconfig?: string;
  }[];
  /** Processes of the clusters (the local provider's, under <dir>/state). */
  clusterProcesses: number;
}

export async function devStatus(dir: string): Promise<StatusReport> {
  const paths = devPaths(dir);
  const report: StatusReport = {
    dir: paths.dir,
    exists: existsSync(paths.dir),
    running: false,
    components: [],
    clusters: [],
    clusterProcesses: processesUnder(paths.providerState).length,
  };
  const state = report.exists ? await readState(paths) : undefined;
  if (!state) return report;
  report.kubeconfig = paths.kubeconfig;
  report.version = state.version;
  const component = (name: string, record: ProcessRecord | undefined, endpoint?: string) => ({
    name,
    ...(record ? { pid: record.pid, log: record.logPath } : {}),
    running: isRunning(record),
    ...(endpoint ? { endpoint } : {}),
  });
  report.components = [
    component('etcd', state.etcd, state.etcdEndpoint),
    component('kube-apiserver', state.apiServer, state.server),
    component(
      'operator',
      state.operator,
      state.operator ? `http://${state.operator.metricsAddress}/metrics` : undefined,
    ),
  ];
  report.running = report.components.every((c) => c.running);
  if (isRunning(state.apiServer)) {
    try {
      const kc = loadKubeConfig(paths.kubeconfig);
      for (const c of await listAll(kc, 'clusters')) {
        const ep = c.status?.controlPlaneEndpoint;
        const kubeconfig = paths.clusterKubeconfig(c.metadata.name);
        report.clusters.push({
          namespace: c.metadata.namespace ?? NAMESPACE,
          name: c.metadata.name,
          ...(c.status?.phase ? { phase: c.status.phase } : {}),
          ready: conditionOf(c, 'Ready')?.status === 'True',
          ...(ep ? { endpoint: `https://${ep.host}:${ep.port}` } : {}),
          ...(c.status?.version ? { version: c.status.version } : {}),
          ...(existsSync(kubeconfig) && c.metadata.namespace === NAMESPACE ? { kubeconfig } : {}),
        });
      }
    } catch {
      // CRDs not installed yet, or the API server is going away: no clusters to show.
    }
  }
  return report;
}

export function printStatus(report: StatusReport, out: Out = stdoutOut): void {
  if (!report.exists || report.components.length === 0) {
    out.line(`No dev environment in ${report.dir} (start one with \`clusterforge dev up\` or \`make demo\`)`);
    if (report.clusterProcesses > 0) {
      out.line(
        `  but ${report.clusterProcesses} process(es) run from it: \`clusterforge dev down\` stops them`,
      );
    }
    return;
  }
  out.line(
    `Dev environment in ${report.dir}: ${report.running ? 'running' : 'NOT fully running (run `clusterforge dev up`)'}`,
  );
  for (const c of report.components) {
    out.line(
      `  ${c.name.padEnd(15)} ${(c.pid ? `pid ${c.pid}` : '').padEnd(11)} ${(c.running ? 'running' : 'stopped').padEnd(8)} ${c.endpoint ?? ''}`,
    );
  }
  out.line(`  kubeconfig      ${report.kubeconfig}  (Kubernetes ${report.version})`);
  if (report.clusters.length === 0) out.line('Clusters: none');
  else {
    out.line('Clusters:');
    for (const c of report.clusters) {
      out.line(
        `  ${`${c.namespace}/${c.name}`.padEnd(20)} ${(c.phase ?? 'Pending').padEnd(12)} Ready=${c.ready ? 'True ' : 'False'} ${c.version ?? ''} ${c.endpoint ?? ''}${c.kubeconfig ? `  kubeconfig ${c.kubeconfig}` : ''}`,
      );
    }
  }
  out.line(
    `  ${report.clusterProcesses} cluster process${report.clusterProcesses === 1 ? '' : 'es'} (etcd, kube-apiserver, load balancer, heart-beats) under ${join(report.dir, 'state')}`,
  );
}
