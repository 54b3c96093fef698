// The local provider, driven directly (no controllers): real etcd, kube-apiserver, load balancer
// and heartbeat processes on loopback, checked with kubectl and the etcd gateway.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiServerReady } from '../../../providers/local/apiserver.js';
import { LocalProvider, localProviderID } from '../../../providers/local/provider.js';
import type { Cluster, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import { EtcdGateway, type EtcdMember } from '../../../src/etcd/gateway.js';
import { httpsRequest, type TlsIdentity } from '../../../src/net/https.js';
import {
  generateClusterCertificates,
  issueEtcdClientCertificate,
  renderKubeconfig,
} from '../../../src/pki/index.js';
import type { ClusterCertificates } from '../../../src/provider/contract.js';
import { isRunning } from '../../../src/supervisor/index.js';
import { kubeVersions } from '../../env/assets.js';
import { KUBE_BUILD_WAIT_MS, waitForKubeBinaries } from '../../support/kube-binaries.js';
import {
  clusterContext,
  deleteMachineFully,
  driveUntilDone,
  ensureMachineReady,
  killEverythingUnder,
  machineContext,
  makeCluster,
  makeMachine,
  makeTemplate,
  NAMESPACE,
  processesUnder,
  recordedProcesses,
  sleep,
} from './fixtures.js';

const VERSION = kubeVersions()[0] as string;
const CP_TIMEOUT = 120_000;

describe('local provider', () => {
  let stateDir: string;
  let provider: LocalProvider;
  let certs: ClusterCertificates;
  let cluster: Cluster;
  let cpTemplate: MachineTemplate;
  let workerTemplate: MachineTemplate;
  let etcdClient: TlsIdentity;
  let kubeconfigPath: string;
  let endpointPort: number;
  const timings: Record<string, number> = {};

  const cp = (name: string) =>
    machineContext(
      cluster,
      certs,
      makeMachine(cluster, name, 'ControlPlane', VERSION, cpTemplate),
      cpTemplate,
    );
  const worker = (name: string) =>
    machineContext(
      cluster,
      certs,
      makeMachine(cluster, name, 'Worker', VERSION, workerTemplate),
      workerTemplate,
    );

  const kubectl = (...args: string[]) =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfigPath, '--request-timeout=10s', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });

  const etcdMembers = async (): Promise<EtcdMember[]> => {
    const gateway = new EtcdGateway(etcdClient);
    for (const [what, rec] of recordedProcesses(stateDir)) {
      if (!what.endsWith('/etcd') || !isRunning(rec)) continue;
      const url = rec.argv.find((a) => a.startsWith('--advertise-client-urls='))?.split('=')[1];
      if (url && (await gateway.healthy(url))) return await gateway.members(url);
    }
    throw new Error('no healthy etcd member');
  };

  beforeAll(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'clusterforge-local-'));
    provider = new LocalProvider({ stateDir });
    certs = await generateClusterCertificates();
    const client = await issueEtcdClientCertificate(certs.etcd, 'test-etcd-client');
    etcdClient = { ca: certs.etcd.cert, ...client };
    cluster = makeCluster('demo');
    cpTemplate = makeTemplate('demo-cp');
    workerTemplate = makeTemplate('demo-workers', 5);
    kubeconfigPath = join(stateDir, 'kubeconfig.yaml');
  });

  afterAll(() => {
    if (stateDir) {
      killEverythingUnder(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    }
    console.log(`local provider timings (s): ${JSON.stringify(timings)}`);
  });

  it('allocates the cluster endpoint and runs the load balancer', async () => {
    const status = await driveUntilDone(
      'infrastructure',
      () => provider.ensureInfrastructure(clusterContext(cluster, certs)),
      30_000,
    );
    expect(status.endpoint?.host).toBe('127.0.0.1');
    endpointPort = status.endpoint?.port as number;
    expect(endpointPort).toBeGreaterThan(0);
    const again = await provider.ensureInfrastructure(clusterContext(cluster, certs));
    expect(again).toEqual({ progress: { state: 'done' }, endpoint: status.endpoint });
  });

  it('reports a version without binaries as BinariesNotFound, without starting anything', async () => {
    const ctx = machineContext(
      cluster,
      certs,
      makeMachine(cluster, 'cp-old', 'ControlPlane', 'v1.20.0', cpTemplate),
      cpTemplate,
    );
    const report = await provider.ensureMachine(ctx);
    expect(report.progress).toMatchObject({ state: 'failed', reason: 'BinariesNotFound' });
    expect(report.progress.state === 'failed' && report.progress.message).toMatch(
      /no etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubelet for v1\.20\.0 in .*v1\.20\.0; run make kube-assets/,
    );
    expect(existsSync(join(provider.clusterDir(NAMESPACE, 'demo'), 'machines', 'cp-old'))).toBe(false);
  });

  it('one control-plane machine serves the API through the load balancer', async () => {
    const started = Date.now();
    const report = await ensureMachineReady(provider, cp('cp-1'), CP_TIMEOUT);
    timings.oneControlPlane = (Date.now() - started) / 1000;
    expect(report.providerID).toBe(localProviderID(NAMESPACE, 'demo', 'cp-1'));
    expect(report.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });

    const material = await provider.kubeconfig(clusterContext(cluster, certs));
    expect(material.server).toBe(`https://127.0.0.1:${endpointPort}`);
    const admin = {
      ca: material.caData,
      cert: material.clientCertData as string,
      key: material.clientKeyData as string,
    };
    expect(await apiServerReady(material.server, admin)).toBe(true);

    writeFileSync(
      kubeconfigPath,
      renderKubeconfig({
        clusterName: 'demo',
        server: material.server,
        caData: material.caData,
        clientCertData: material.clientCertData,
        clientKeyData: material.clientKeyData,
      }),
      { mode: 0o600 },
    );
    const namespaces = kubectl('get', 'ns', '-o', 'name');
    expect(namespaces).toContain('namespace/default');
    expect(namespaces).toContain('namespace/kube-system');
    expect(kubectl('auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}')).toBe('kubernetes-admin');
  });

  it('two more control-plane machines make a three-member etcd', async () => {
    const started = Date.now();
    // Both at once, as a controller would: etcd takes one learner at a time, the other waits.
    await Promise.all([
      ensureMachineReady(provider, cp('cp-2'), CP_TIMEOUT * 2),
      ensureMachineReady(provider, cp('cp-3'), CP_TIMEOUT * 2),
    ]);
    timings.twoMoreControlPlanes = (Date.now() - started) / 1000;
    timings.threeControlPlanes = (timings.oneControlPlane ?? 0) + timings.twoMoreControlPlanes;

    const members = await etcdMembers();
    expect(members).toHaveLength(3);
    expect(members.every((m) => !m.isLearner)).toBe(true);
    expect(members.map((m) => m.name).sort()).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const lb = JSON.parse(
      execFileSync('cat', [join(provider.clusterDir(NAMESPACE, 'demo'), 'lb.json')], { encoding: 'utf8' }),
    );
    expect(lb.backends.map((b: { name: string }) => b.name)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(kubectl('get', 'ns', '-o', 'name')).toContain('namespace/default');
  });

  it('a worker is a Node, Ready, with its version as kubeletVersion, kept alive by heart-beats', async () => {
    const report = await ensureMachineReady(provider, worker('worker-1'), 60_000);
    expect(report.nodeName).toBe('worker-1');
    expect(report.providerID).toBe(localProviderID(NAMESPACE, 'demo', 'worker-1'));

    const node = JSON.parse(kubectl('get', 'node', 'worker-1', '-o', 'json'));
    expect(node.status.nodeInfo.kubeletVersion).toBe(VERSION);
    expect(node.spec.providerID).toBe(report.providerID);
    expect(node.metadata.labels['clusterforge.dev/cluster-name']).toBe('demo');
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    expect(ready.status).toBe('True');

    const renewTime = () =>
      kubectl('get', 'lease', '-n', 'kube-node-lease', 'worker-1', '-o', 'jsonpath={.spec.renewTime}');
    const first = renewTime();
    expect(first).not.toBe('');
    await sleep(6_000);
    expect(Date.parse(renewTime())).toBeGreaterThan(Date.parse(first));
  });

  it('a new provider instance adopts the running processes and starts nothing', async () => {
    const before = recordedProcesses(stateDir);
    const runningBefore = processesUnder(stateDir)
      .map((p) => p.pid)
      .sort();
    expect(before.size).toBe(1 + 3 * 2 + 1);

    const restarted = new LocalProvider({ stateDir });
    const infra = await restarted.ensureInfrastructure(clusterContext(cluster, certs));
    expect(infra.progress.state).toBe('done');
    for (const name of ['cp-1', 'cp-2', 'cp-3']) {
      const report = await restarted.ensureMachine(cp(name));
      expect(report.progress.state, `${name}: ${JSON.stringify(report.progress)}`).toBe('done');
      expect(report.ready).toBe(true);
    }
    const w = await restarted.ensureMachine(worker('worker-1'));
    expect(w.progress.state).toBe('done');

    const after = recordedProcesses(stateDir);
    for (const [what, rec] of before) expect(after.get(what)?.pid, what).toBe(rec.pid);
    expect(
      processesUnder(stateDir)
        .map((p) => p.pid)
        .sort(),
    ).toEqual(runningBefore);
    provider = restarted;
  });

  it('refuses to remove a member when the rest would lose quorum', async () => {
    // One of three members down: removing another would leave one healthy of two.
    const records = recordedProcesses(stateDir);
    const etcd2 = records.get('cp-2/etcd');
    const etcd3 = records.get('cp-3/etcd');
    expect(etcd2 && etcd3).toBeTruthy();
    process.kill(etcd2?.pid as number, 'SIGKILL');
    await sleep(500);
    const refused = await provider.deleteMachine(cp('cp-3'));
    expect(refused).toMatchObject({ state: 'failed', reason: 'EtcdQuorumAtRisk' });
    // Nothing was taken down: cp-3 still serves, and cp-2 is brought back by the next ensure.
    expect(isRunning(recordedProcesses(stateDir).get('cp-3/kube-apiserver'))).toBe(true);
    await ensureMachineReady(provider, cp('cp-2'), CP_TIMEOUT);
    expect(recordedProcesses(stateDir).get('cp-2/etcd')?.pid).not.toBe(etcd2?.pid);
  });

  it('removing a control-plane machine leaves two members and an API that serves', async () => {
    const gone = [...recordedProcesses(stateDir)]
      .filter(([what]) => what.startsWith('cp-1/'))
      .map(([, r]) => r);
    await deleteMachineFully(provider, cp('cp-1'), 60_000);
    const members = await etcdMembers();
    expect(members.map((m) => m.name).sort()).toEqual(['cp-2', 'cp-3']);
    for (const rec of gone) expect(isRunning(rec)).toBe(false);
    expect(existsSync(join(provider.clusterDir(NAMESPACE, 'demo'), 'machines', 'cp-1'))).toBe(false);
    expect(kubectl('get', 'ns', '-o', 'name')).toContain('namespace/default');
    expect(kubectl('get', 'node', 'worker-1', '-o', 'name')).toContain('node/worker-1');
  });

  it('deleting everything leaves no process and no state folder', async () => {
    const all = [...recordedProcesses(stateDir).values()];
    const infraBlocked = await provider.deleteInfrastructure(clusterContext(cluster, certs));
    expect(infraBlocked.state).toBe('inProgress');

    await deleteMachineFully(provider, worker('worker-1'), 30_000);
    expect(kubectl('get', 'nodes', '-o', 'name')).not.toContain('worker-1');
    expect(kubectl('get', 'lease', '-n', 'kube-node-lease', '-o', 'name')).not.toContain('worker-1');

    await deleteMachineFully(provider, cp('cp-2'), 60_000);
    await deleteMachineFully(provider, cp('cp-3'), 60_000);
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterContext(cluster, certs)) }),
      30_000,
    );
    for (const rec of all) expect(isRunning(rec), rec.argv[0]).toBe(false);
    expect(processesUnder(join(stateDir, 'local'))).toEqual([]);
    expect(existsSync(provider.clusterDir(NAMESPACE, 'demo'))).toBe(false);
    // Idempotent: deleting again is done at once.
    expect(await provider.deleteInfrastructure(clusterContext(cluster, certs))).toEqual({ state: 'done' });
    expect(await provider.deleteMachine(cp('cp-2'))).toEqual({ state: 'done' });
  });
});

describe('local provider across versions', () => {
  const [newest, previous] = kubeVersions() as [string, string];
  let stateDir: string;
  let provider: LocalProvider;
  let certs: ClusterCertificates;
  let cluster: Cluster;
  let template: MachineTemplate;

  beforeAll(async () => {
    // make test may still be building the previous version's binaries (hack/with-background-builds.sh).
    await waitForKubeBinaries(previous);
    stateDir = mkdtempSync(join(tmpdir(), 'clusterforge-local-'));
    provider = new LocalProvider({ stateDir });
    certs = await generateClusterCertificates();
    cluster = makeCluster('upgrade');
    template = makeTemplate('upgrade-cp');
  }, KUBE_BUILD_WAIT_MS);

  afterAll(() => {
    if (stateDir) {
      killEverythingUnder(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it('replaces a control-plane machine of the previous version by one of the next, serving throughout', async () => {
    const old = machineContext(
      cluster,
      certs,
      makeMachine(cluster, 'cp-old', 'ControlPlane', previous, template),
      template,
    );
    const next = machineContext(
      cluster,
      certs,
      makeMachine(cluster, 'cp-new', 'ControlPlane', newest, template),
      template,
    );
    await driveUntilDone(
      'infrastructure',
      () => provider.ensureInfrastructure(clusterContext(cluster, certs)),
      30_000,
    );
    await ensureMachineReady(provider, old, CP_TIMEOUT);
    const material = await provider.kubeconfig(clusterContext(cluster, certs));
    const admin = {
      ca: material.caData,
      cert: material.clientCertData as string,
      key: material.clientKeyData as string,
    };
    const served = async () =>
      JSON.parse((await httpsRequest(`${material.server}/version`, admin)).text).gitVersion;
    expect(await served()).toBe(previous);

    await ensureMachineReady(provider, next, CP_TIMEOUT);
    await deleteMachineFully(provider, old, 60_000);
    expect(await served()).toBe(newest);
    expect(await apiServerReady(material.server, admin)).toBe(true);

    await deleteMachineFully(provider, next, 60_000);
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterContext(cluster, certs)) }),
      30_000,
    );
    expect(processesUnder(join(stateDir, 'local'))).toEqual([]);
  });
});
