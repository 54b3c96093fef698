// The dev environment behind `make demo` and `clusterforge dev up|down|status`: a local management
// plane (etcd + kube-apiserver), the CRDs, the operator, and a local cluster made by the operator,
// all running detached from the command that started them, in one folder (default .clusterforge/dev):
//
//   <dir>/state.json          what runs: pids and full command lines, endpoints, the build of the operator
//   <dir>/kubeconfig          the management cluster's admin kubeconfig
//   <dir>/pki/, etcd-data/    the management plane's certificates and data
//   <dir>/etcd.log, kube-apiserver.log, operator.log
//   <dir>/state/              CLUSTERFORGE_STATE_DIR of the operator: the local provider's clusters
//   <dir>/<cluster>.kubeconfig  a cluster's published kubeconfig, as fetched by `dev up`
//
// A recorded process is adopted by the next `dev up` when its pid is alive AND /proc/<pid>/cmdline is
// its recorded command line; one that died is started again with the same command line (same ports,
// same certificates, same data), so that a reboot or a killed process costs nothing but a `dev up`.
// Nothing is ever started twice. `dev down` deletes the clusters through the operator (so that it
// tears down their processes), stops the operator and the management plane, then kills whatever still
// mentions the folder in its command line, and removes the folder.
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, CustomObjectsApi, KubeConfig, VersionApi } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/meta.js';
import { freePort } from '../net/ports.js';
import {
  adoptedHandle,
  type DetachedProcess,
  isRunning,
  type ProcessHandle,
  type ProcessRecord,
  pidAlive,
  processesUnder,
  startDetached,
  stopProcessesUnder,
  stopRecorded,
  tailFile,
  waitReady,
} from '../supervisor/index.js';
import { renderTemplate } from '../templates/render.js';
import { type KubeAssets, packageRoot, resolveKubeAssets } from './assets.js';
import { DEFAULT_DEV_DIR } from './defaults.js';
import { kubectl, kubectlOk } from './kubectl.js';
import {
  adminTls,
  apiServerReady,
  etcdHealthy,
  managementPaths,
  startManagementPlane,
} from './management-plane.js';
import { Progress } from './progress.js';

export { DEFAULT_DEV_DIR };

const STATE_SCHEMA_VERSION = 1;
const PLANE_NAME = 'clusterforge-dev';
const ADMIN_USER = 'clusterforge-dev-admin';
const FIELD_MANAGER = 'clusterforge-dev';
const NAMESPACE = 'default';

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

/** Output of the commands: stdout for what a person reads. */
export interface Out {
  line(text?: string): void;
}

export const stdoutOut: Out = { line: (text = '') => process.stdout.write(`${text}\n`) };

// ---------------------------------------------------------------------------------------------------
// State and lock

export function readState(paths: DevPaths): DevState | undefined {
  let text: string;
  try {
    text = readFileSync(paths.state, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as DevState;
  } catch (err) {
    throw new Error(
      `${paths.state} is not valid JSON (${(err as Error).message}); run \`clusterforge dev down\` to start over`,
    );
  }
}

function writeState(paths: DevPaths, state: DevState): void {
  const tmp = `${paths.state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, paths.state);
}

/**
 * Takes <dir>/.lock (created exclusively, holding our pid) so that two dev commands never work on one
 * folder at once; a lock whose process is gone is taken over. Returns the release function.
 */
function lock(paths: DevPaths): () => void {
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

// ---------------------------------------------------------------------------------------------------
// The operator's command line and build

/** How to run this same CLI: the built one (bin/clusterforge.js), or the sources through tsx. */
export function selfCommand(): string[] {
  const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
  return fromSources
    ? [process.execPath, '--import', 'tsx', join(packageRoot, 'src', 'cli', 'main.ts')]
    : [process.execPath, join(packageRoot, 'bin', 'clusterforge.js')];
}

/** A hash of the code this CLI runs (dist/ when built, the sources under tsx). */
export function buildStamp(): string {
  const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
  const roots = fromSources
    ? [join(packageRoot, 'src'), join(packageRoot, 'providers')]
    : [join(packageRoot, 'dist', 'src'), join(packageRoot, 'dist', 'providers')];
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (/\.(m?js|ts)$/.test(entry) && !entry.endsWith('.d.ts')) {
        hash.update(relative(packageRoot, path));
        hash.update(readFileSync(path));
      }
    }
  };
  for (const root of roots) walk(root);
  return hash.digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------------
// Kubernetes objects (only what is read here)

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

interface KubeObject {
  metadata: {
    name: string;
    namespace?: string;
    generation?: number;
    deletionTimestamp?: string;
  };
  spec?: { replicas?: number; version?: string };
  status?: {
    phase?: string;
    conditions?: Condition[];
    observedGeneration?: number;
    lifecycle?: { state?: string };
    controlPlaneEndpoint?: { host: string; port: number };
    version?: string;
    replicas?: number;
    readyReplicas?: number;
    failureReason?: string;
    failureMessage?: string;
  };
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

async function getObject(
  kc: KubeConfig,
  plural: string,
  name: string,
  namespace = NAMESPACE,
): Promise<KubeObject | undefined> {
  try {
    return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      name,
    })) as KubeObject;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

async function listAll(kc: KubeConfig, plural: string): Promise<KubeObject[]> {
  const list = (await kc
    .makeApiClient(CustomObjectsApi)
    .listClusterCustomObject({ group: GROUP, version: VERSION, plural })) as { items: KubeObject[] };
  return list.items;
}

const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined =>
  o?.status?.conditions?.find((c) => c.type === type);

// ---------------------------------------------------------------------------------------------------
// The management plane

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

interface PlaneResult {
  state: DevState;
  how: 'started' | 'running' | 'restarted';
}

async function ensureManagementPlane(
  paths: DevPaths,
  assets: () => KubeAssets,
  timeoutMs: number,
): Promise<PlaneResult> {
  const existing = readState(paths);
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

// ---------------------------------------------------------------------------------------------------
// CRDs and the operator

async function installCRDs(paths: DevPaths, timeoutMs: number): Promise<number> {
  const crds = join(packageRoot, 'crds');
  await kubectlOk(paths.kubeconfig, [
    'apply',
    '--server-side',
    '--force-conflicts',
    `--field-manager=${FIELD_MANAGER}`,
    '-f',
    crds,
  ]);
  await kubectlOk(paths.kubeconfig, [
    'wait',
    '--for=condition=Established',
    `--timeout=${Math.ceil(timeoutMs / 1000)}s`,
    '-f',
    crds,
  ]);
  // Established is not yet servable: the storage of a new CRD answers 429 for a moment.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const listed = await kubectl(paths.kubeconfig, ['get', 'clusterforge', '--all-namespaces']);
    if (listed.code === 0) break;
    if (Date.now() > deadline) throw new Error(`the CRDs are not served: ${listed.stderr.trim()}`);
    await sleep(200);
  }
  return readdirSync(crds).filter((f) => f.endsWith('.yaml')).length;
}

async function operatorReady(address: string): Promise<boolean> {
  const res = await fetch(`http://${address}/readyz`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

interface OperatorResult {
  record: OperatorRecord;
  how: 'started' | 'running' | 'restarted (it had stopped)' | 'restarted (the code was rebuilt)';
}

async function ensureOperator(paths: DevPaths, state: DevState, timeoutMs: number): Promise<OperatorResult> {
  const build = buildStamp();
  let how: OperatorResult['how'] = 'started';
  if (state.operator && isRunning(state.operator)) {
    if (state.operator.build === build) {
      const address = state.operator.metricsAddress;
      await waitReady(() => operatorReady(address), {
        what: 'waiting for the operator',
        timeoutMs,
        process: adoptedHandle('operator', state.operator),
      });
      return { record: state.operator, how: 'running' };
    }
    // Another build: replace it (the clusters' processes outlive it and are adopted by the new one).
    await stopRecorded(state.operator, { graceMs: 15_000 });
    how = 'restarted (the code was rebuilt)';
  } else if (state.operator) {
    how = 'restarted (it had stopped)';
  }
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  mkdirSync(paths.providerState, { recursive: true, mode: 0o700 });
  const [command, ...prefix] = selfCommand() as [string, ...string[]];
  const proc = startDetached(
    'operator',
    [
      command,
      ...prefix,
      'operator',
      `--kubeconfig=${paths.kubeconfig}`,
      `--metrics-bind-address=${metricsAddress}`,
    ],
    {
      logPath: paths.operatorLog,
      // Under tsx, `--import tsx` is resolved from the working directory: the package's own.
      cwd: packageRoot,
      env: {
        ...process.env,
        CLUSTERFORGE_STATE_DIR: paths.providerState,
        LOG_LEVEL: process.env.LOG_LEVEL || 'info',
      },
    },
  );
  const record: OperatorRecord = { ...proc.record, metricsAddress, build };
  state.operator = record;
  writeState(paths, state);
  await waitReady(() => operatorReady(metricsAddress), {
    what: 'starting the operator',
    timeoutMs,
    process: proc,
  });
  return { record, how };
}

// ---------------------------------------------------------------------------------------------------
// The cluster

export interface ClusterSettings {
  name: string;
  kubernetesVersion: string;
  controlPlane: number;
  workers: number;
}

function renderCluster(settings: ClusterSettings): string {
  const template = readFileSync(join(packageRoot, 'templates', 'local', 'cluster-template.yaml'), 'utf8');
  return renderTemplate(template, {
    CLUSTER_NAME: settings.name,
    NAMESPACE,
    KUBERNETES_VERSION: settings.kubernetesVersion,
    CONTROL_PLANE_MACHINE_COUNT: String(settings.controlPlane),
    WORKER_MACHINE_COUNT: String(settings.workers),
  });
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

async function waitClusterReady(
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

async function fetchClusterKubeconfig(kc: KubeConfig, paths: DevPaths, name: string): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: `${name}-kubeconfig`, namespace: NAMESPACE });
  const value = secret.data?.value;
  if (!value) throw new Error(`the Secret ${NAMESPACE}/${name}-kubeconfig has no key 'value'`);
  const path = paths.clusterKubeconfig(name);
  writeFileSync(path, Buffer.from(value, 'base64'), { mode: 0o600 });
  return path;
}

// ---------------------------------------------------------------------------------------------------
// dev up

export interface UpOptions extends ClusterSettings {
  dir: string;
  /** The whole wait for the cluster, and each process's start. */
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

    const manifest = renderCluster(settings);
    const applied = await kubectlOk(
      paths.kubeconfig,
      ['apply', '--server-side', '--force-conflicts', `--field-manager=${FIELD_MANAGER}`, '-f', '-'],
      { input: manifest },
    );
    for (const line of applied.trim().split('\n')) out.line(`  ${line}`);
    if (!state.clusters.includes(settings.name)) {
      state.clusters.push(settings.name);
      writeState(paths, state);
    }

    const kc = loadKubeConfig(paths.kubeconfig);
    out.line(
      `Waiting for Cluster ${settings.name} (${settings.controlPlane} control-plane machine${settings.controlPlane === 1 ? '' : 's'}, ${settings.workers} worker${settings.workers === 1 ? '' : 's'}, Kubernetes ${settings.kubernetesVersion})`,
    );
    await waitClusterReady(kc, paths, state, settings.name, opts.timeoutMs);

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

// ---------------------------------------------------------------------------------------------------
// dev down

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
    const state = readState(paths);
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

// ---------------------------------------------------------------------------------------------------
// dev status

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
  const state = report.exists ? readState(paths) : undefined;
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
