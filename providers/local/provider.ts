// The `local` infrastructure provider: every cluster lives on this host, on loopback.
// - Infrastructure: a state folder and a TCP load balancer process; the endpoint is 127.0.0.1:<port>.
// - A control-plane machine: an etcd member, a kube-apiserver, a kube-controller-manager and a
//   kube-scheduler, real processes, detached.
// - A worker machine: a kubelet with its own containerd (worker: Kubelet, kubelet/), or a Node kept
//   Ready by a detached heartbeat process (worker: Simulated, workers.ts).
// Every call is idempotent and quick: it takes the next step, and reports how far things are.
import { randomUUID } from 'node:crypto';
import { readFile, rmdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Cluster } from '../../src/api/v1alpha1/index.js';
import { EtcdGateway } from '../../src/etcd/gateway.js';
import { allocatePorts, LOOPBACK } from '../../src/net/ports.js';
import { loadCertificate } from '../../src/pki/index.js';
import type * as contract from '../../src/provider/contract.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import { isRunning } from '../../src/supervisor/index.js';
import { apiServerReady, ensureApiServer, stopApiServer } from './apiserver.js';
import { findBinaries } from './binaries.js';
import {
  type ClusterIdentities,
  ensureClusterIdentities,
  ensureControlPlaneCertificates,
  ensureWorkerCertificates,
  type ServiceNetwork,
} from './certificates.js';
import { ensureComponentKubeconfigs, ensureComponents, stopComponents } from './components.js';
import { ensureEtcdMember, planMemberRemoval, removeEtcdMember, stopEtcd } from './etcd.js';
import { ensureLoadBalancer, stopLoadBalancer, syncLoadBalancer } from './loadbalancer.js';
import { type MachineScope, saveMachine } from './scope.js';
import {
  type ClusterPaths,
  type ClusterRecord,
  clusterPaths,
  ensureDir,
  exists,
  type MachinePaths,
  type MachineRecord,
  machineNames,
  machinePaths,
  readJson,
  readMachineRecords,
  removeDir,
  STATE_SCHEMA_VERSION,
  stateRoot,
  withLock,
  writeJson,
} from './state.js';
import { deleteWorkerMachine, ensureWorkerMachine } from './worker-machine.js';
import { workloadClients } from './workers.js';

export interface LocalProviderOptions {
  /** The state root (the provider uses `<stateDir>/local/...`); default from the environment. */
  stateDir?: string;
  /** Environment to read CLUSTERFORGE_STATE_DIR, XDG_*, KUBEBUILDER_ASSETS, CLUSTERFORGE_CACHE from. */
  env?: NodeJS.ProcessEnv;
}

/** `local:///<namespace>/<cluster>/<machine>` */
export function localProviderID(namespace: string, cluster: string, machine: string): string {
  return `local:///${namespace}/${cluster}/${machine}`;
}

function serviceNetwork(cluster: Cluster): ServiceNetwork {
  const network = cluster.spec.clusterNetwork;
  return {
    serviceDomain: network?.serviceDomain ?? 'cluster.local',
    serviceCIDR: network?.services?.cidrBlocks?.[0] ?? '10.96.0.0/12',
    podCIDR: network?.pods?.cidrBlocks?.[0] ?? '10.244.0.0/16',
  };
}

const addressesOf = (name: string): NonNullable<contract.MachineStatusReport['addresses']> => [
  { type: 'InternalIP', address: LOOPBACK },
  { type: 'Hostname', address: name },
];

export class LocalProvider implements contract.InfrastructureProvider {
  readonly name = 'local' as const;
  readonly selfManagedControlPlane = true;
  readonly servesWorkloadAPI = true;
  private readonly root: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(opts: LocalProviderOptions = {}) {
    this.env = opts.env ?? process.env;
    this.root = opts.stateDir ?? stateRoot(this.env);
  }

  providerIDFor(cluster: Cluster, machineName: string): string {
    const paths = this.paths(cluster);
    return localProviderID(paths.namespace, paths.name, machineName);
  }

  /** The folder a cluster's state lives in. */
  clusterDir(namespace: string, name: string): string {
    return clusterPaths(this.root, namespace, name).dir;
  }

  private paths(cluster: Cluster): ClusterPaths {
    return clusterPaths(this.root, cluster.metadata.namespace ?? 'default', cluster.metadata.name);
  }

  private gateway(identities: ClusterIdentities): EtcdGateway {
    return new EtcdGateway(identities.etcdClient);
  }

  private logger(ctx: contract.ClusterContext, machine?: string): Logger {
    return ctx.log.child({
      provider: 'local',
      cluster: ctx.cluster.metadata.name,
      ...(machine ? { machine } : {}),
    });
  }

  /** The part of a machine's scope that its context alone decides: folders, logger, service network. */
  private machinePlace(
    ctx: contract.MachineContext,
  ): Pick<MachineScope, 'cluster' | 'paths' | 'log' | 'network'> {
    const cluster = this.paths(ctx.cluster);
    const name = ctx.machine.metadata.name as string;
    return {
      cluster,
      paths: machinePaths(cluster, name),
      log: this.logger(ctx, name),
      network: serviceNetwork(ctx.cluster),
    };
  }

  async ensureInfrastructure(ctx: contract.ClusterContext): Promise<contract.InfrastructureStatus> {
    if (!ctx.cluster.spec.infrastructure.local) {
      return { progress: failed('NotLocal', 'spec.infrastructure.local is not set on this Cluster') };
    }
    const paths = this.paths(ctx.cluster);
    const uid = ctx.cluster.metadata.uid;
    return await withLock(`cluster:${paths.dir}`, async () => {
      await ensureDir(paths.machinesDir);
      let record = await readJson<ClusterRecord>(paths.record);
      if (record?.uid && uid && record.uid !== uid) {
        return {
          progress: failed(
            'StaleState',
            `the state folder ${paths.dir} belongs to an earlier cluster of the same name (uid ${record.uid}); delete it to go on`,
          ),
        };
      }
      if (!record) {
        const [port] = await allocatePorts(1);
        record = {
          schemaVersion: STATE_SCHEMA_VERSION,
          namespace: paths.namespace,
          name: paths.name,
          uid,
          createdAt: new Date().toISOString(),
          endpoint: { host: LOOPBACK, port: port as number },
          etcdToken: `${paths.namespace}-${paths.name}-${randomUUID().slice(0, 8)}`,
        };
        await writeJson(paths.record, record);
        this.logger(ctx).info({ endpoint: record.endpoint }, 'cluster endpoint allocated');
      }
      const progress = await ensureLoadBalancer(paths, record, this.logger(ctx));
      return { progress, endpoint: record.endpoint };
    });
  }

  async deleteInfrastructure(ctx: contract.ClusterContext): Promise<Progress> {
    const paths = this.paths(ctx.cluster);
    if (!(await exists(paths.dir))) return done();
    const machines = await machineNames(paths);
    if (machines.length > 0) {
      return inProgress(
        `waiting for ${machines.length} machine(s) to be deleted first: ${machines.join(', ')}`,
        2_000,
      );
    }
    const record = await readJson<ClusterRecord>(paths.record);
    if (record) {
      const lb = await stopLoadBalancer(paths, record);
      if (lb.state !== 'done') return lb;
    }
    await removeDir(paths.dir);
    // The namespace folder goes too once it holds no cluster.
    await rmdir(dirname(paths.dir)).catch(() => undefined);
    this.logger(ctx).info({ dir: paths.dir }, 'cluster state removed');
    return done();
  }

  /** Reads a machine's record, making it (with its ports) on the first call. */
  private async machineRecord(
    paths: ClusterPaths,
    machinePath: MachinePaths,
    ctx: contract.MachineContext,
    clusterRecord: ClusterRecord,
  ): Promise<MachineRecord> {
    return await withLock(`ports:${paths.dir}`, async () => {
      const existing = await readJson<MachineRecord>(machinePath.record);
      if (existing) return existing;
      const role = ctx.machine.spec.role;
      const taken = [clusterRecord.endpoint.port];
      for (const other of await readMachineRecords(paths)) taken.push(...Object.values(other.ports));
      const ports: MachineRecord['ports'] = {};
      if (role === 'ControlPlane') {
        const [etcdClient, etcdPeer, apiServer] = await allocatePorts(3, taken);
        Object.assign(ports, { etcdClient, etcdPeer, apiServer });
      } else if (ctx.template.spec.template.spec.local?.worker === 'Kubelet') {
        const [kubelet, kubeletHealthz] = await allocatePorts(2, taken);
        Object.assign(ports, { kubelet, kubeletHealthz });
      }
      const record: MachineRecord = {
        schemaVersion: STATE_SCHEMA_VERSION,
        name: machinePath.name,
        role,
        version: ctx.machine.spec.version,
        createdAt: new Date().toISOString(),
        ports,
      };
      await ensureDir(machinePath.logsDir);
      await writeJson(machinePath.record, record);
      return record;
    });
  }

  async ensureMachine(ctx: contract.MachineContext): Promise<contract.MachineStatusReport> {
    const place = this.machinePlace(ctx);
    const { cluster: paths, paths: machinePath, log } = place;
    const name = machinePath.name;
    const providerID = localProviderID(paths.namespace, paths.name, name);
    const report = (progress: Progress, ready = false, nodeName?: string): contract.MachineStatusReport => ({
      progress,
      providerID,
      addresses: addressesOf(name),
      ready,
      ...(nodeName ? { nodeName } : {}),
    });

    const clusterRecord = await readJson<ClusterRecord>(paths.record);
    if (!clusterRecord) return report(inProgress('waiting for the cluster infrastructure', 2_000));
    const identities = await ensureClusterIdentities(paths, ctx.certificates);
    if (!identities) return report(inProgress('waiting for the cluster certificates', 2_000));

    const role = ctx.machine.spec.role;
    const localSpec = ctx.template.spec.template.spec.local;
    const kubeletWorker = role === 'Worker' && localSpec?.worker === 'Kubelet';
    let binaries: MachineScope['binaries'];
    if (role === 'ControlPlane' || kubeletWorker) {
      const lookup = await findBinaries(ctx.machine.spec.version, this.env);
      if (!lookup.found) return report(failed('BinariesNotFound', lookup.message));
      binaries = lookup.binaries;
    }

    const record = await this.machineRecord(paths, machinePath, ctx, clusterRecord);
    if (record.role !== role) {
      return report(failed('RoleMismatch', `machine ${name} was made as ${record.role}, not ${role}`));
    }
    if (record.deleting) return report(inProgress('the machine is being deleted', 2_000));

    const scope: MachineScope = { ...place, clusterRecord, record, identities, binaries };

    if (role === 'ControlPlane') {
      if (!(await ensureControlPlaneCertificates(machinePath, ctx.certificates, scope.network))) {
        return report(inProgress('waiting for the cluster certificates', 2_000));
      }
      const gateway = this.gateway(identities);
      const etcd = await ensureEtcdMember(scope, gateway);
      if (etcd.state !== 'done') return report(etcd);
      const api = await ensureApiServer(scope, gateway);
      if (api.state !== 'done') {
        // A (re)started API server leaves the load balancer until it is ready again.
        await syncLoadBalancer(paths, clusterRecord);
        return report(api);
      }
      if (!(await ensureComponentKubeconfigs(scope, ctx.certificates))) {
        return report(inProgress('waiting for the cluster certificates', 2_000));
      }
      const components = await ensureComponents(scope);
      if (components.state !== 'done') return report(components);
      if (!record.apiServer?.inLoadBalancer) {
        record.apiServer = { ...record.apiServer, inLoadBalancer: true };
        await saveMachine(scope);
      }
      if (await syncLoadBalancer(paths, clusterRecord)) log.info('load balancer backends updated');
      return report(done(), true);
    }

    if (!(await ensureWorkerCertificates(machinePath, ctx.certificates))) {
      return report(inProgress('waiting for the cluster certificates', 2_000));
    }
    const server = `https://${LOOPBACK}:${clusterRecord.endpoint.port}`;
    if (!(await apiServerReady(server, identities.admin))) {
      return report(inProgress('waiting for the control plane to serve the API', 2_000));
    }
    const progress = await ensureWorkerMachine(scope, ctx, {
      providerID,
      server,
      clients: workloadClients(server, identities.admin),
      kubelet: binaries?.kubelet,
      env: this.env,
      stateRoot: this.root,
    });
    return report(progress, progress.state === 'done', record.worker?.nodeUID ? name : undefined);
  }

  async deleteMachine(ctx: contract.MachineContext): Promise<Progress> {
    const place = this.machinePlace(ctx);
    const { cluster: paths, paths: machinePath, log } = place;
    const name = machinePath.name;
    if (!(await exists(machinePath.dir))) return done();
    const record = await readJson<MachineRecord>(machinePath.record);
    const clusterRecord = await readJson<ClusterRecord>(paths.record);
    if (!record || !clusterRecord) {
      await removeDir(machinePath.dir);
      return done();
    }
    const identities = await ensureClusterIdentities(paths, ctx.certificates);
    // The certificates may be gone by now: the steps below that need them check `identities` first.
    const scope: MachineScope = {
      ...place,
      clusterRecord,
      record,
      identities: identities as ClusterIdentities,
    };
    if (!record.deleting) {
      // Refuse before taking anything down, when losing this etcd member would lose the quorum.
      if (record.role === 'ControlPlane' && identities) {
        const plan = await planMemberRemoval(scope, this.gateway(identities));
        if (plan.progress.state !== 'done') return plan.progress;
      }
      record.deleting = true;
      await saveMachine(scope);
      log.info({ role: record.role }, 'deleting machine');
    }

    if (record.role === 'ControlPlane') {
      if (record.apiServer?.inLoadBalancer) {
        // Out of the load balancer first; give it a moment to re-read its backends.
        record.apiServer.inLoadBalancer = false;
        await saveMachine(scope);
        await syncLoadBalancer(paths, clusterRecord);
        return inProgress('removed from the load balancer', 1_000);
      }
      const components = await stopComponents(scope);
      if (components.state !== 'done') return components;
      const api = await stopApiServer(scope);
      if (api.state !== 'done') return api;
      if (identities) {
        const removed = await removeEtcdMember(scope, this.gateway(identities));
        if (removed.state !== 'done') return removed;
      }
      const etcd = await stopEtcd(scope);
      if (etcd.state !== 'done') return etcd;
      const owner = (await readFile(paths.etcdBootstrap, 'utf8').catch(() => '')).trim();
      if (owner === name) await unlink(paths.etcdBootstrap).catch(() => undefined);
    } else {
      const server = `https://${LOOPBACK}:${clusterRecord.endpoint.port}`;
      let clients: ReturnType<typeof workloadClients> | undefined;
      if (identities && (await this.controlPlaneRunning(paths))) {
        if (!(await apiServerReady(server, identities.admin))) {
          return inProgress('waiting for the control plane to delete the Node', 2_000);
        }
        clients = workloadClients(server, identities.admin);
      }
      const providerID = localProviderID(paths.namespace, paths.name, name);
      const worker = await deleteWorkerMachine(scope, providerID, clients, this.root);
      if (worker.state !== 'done') return worker;
    }
    await removeDir(machinePath.dir);
    log.info('machine deleted');
    return done();
  }

  /** Whether any control-plane machine of the cluster has a running API server. */
  private async controlPlaneRunning(paths: ClusterPaths): Promise<boolean> {
    const records = await readMachineRecords(paths);
    return records.some((r) => r.role === 'ControlPlane' && !r.deleting && isRunning(r.apiServer?.process));
  }

  async kubeconfig(ctx: contract.ClusterContext): Promise<contract.KubeconfigMaterial> {
    const paths = this.paths(ctx.cluster);
    const record = await readJson<ClusterRecord>(paths.record);
    if (!record) throw new Error(`cluster ${paths.namespace}/${paths.name}: no endpoint allocated yet`);
    const identities = await ensureClusterIdentities(paths, ctx.certificates);
    if (!identities) throw new Error(`cluster ${paths.namespace}/${paths.name}: no certificates yet`);
    return {
      server: `https://${record.endpoint.host}:${record.endpoint.port}`,
      caData: identities.admin.ca,
      clientCertData: identities.admin.cert,
      clientKeyData: identities.admin.key,
      expiresAt: loadCertificate(identities.admin.cert).notAfter,
    };
  }
}

export function createLocalProvider(opts: LocalProviderOptions = {}): LocalProvider {
  return new LocalProvider(opts);
}
