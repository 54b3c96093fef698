// The `aws-ec2` infrastructure provider: self-managed Kubernetes on EC2, in the manner of Cluster API
// Provider AWS. ensureInfrastructure runs the network, security group and load balancer steps in
// order and reports what it still waits for; machines are instances bootstrapped by kubeadm through
// cloud-init; deleteInfrastructure removes everything in dependency order, type by type, looking each
// type up by the cluster's owned tag, so that the last pass is a sweep that finds nothing.
// Every call is quick: it starts work and reports progress; it never waits on an AWS waiter.
import type { Logger } from 'pino';
import { NODE_POD_PREFIX } from '../../src/api/v1alpha1/network.js';
import { apiMessage } from '../../src/kube/errors.js';
import { workloadAdminClient } from '../../src/kube/workload-client.js';
import { issueAdminCertificate, loadCertificate } from '../../src/pki/index.js';
import type * as contract from '../../src/provider/contract.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import type { VersionRange } from '../../src/provider/versions.js';
import type { KubeClient } from '../../src/runtime/transport.js';
import { AwsClientFactory } from '../aws-common/clients.js';
import { resolveCredentials, type SecretReader } from '../aws-common/credentials.js';
import { classifyAwsError, progressFromError } from '../aws-common/errors.js';
import { EtcdMembership } from './etcd/membership.js';
import { JoinTokens } from './join-tokens/join-tokens.js';
import { DEFAULT_TOKEN_TTL_MS, kubeadmTTL } from './join-tokens/token.js';
import {
  API_SERVER_PORT,
  type ClusterState,
  DEFAULT_EC2_PERIODS,
  type Ec2Periods,
  Ec2Scope,
  identityOf,
  newClusterState,
  type StepOutcome,
} from './scope.js';
import { discoverForMachines, discoverLoadBalancing } from './services/discovery.js';
import {
  deleteInternetGateways,
  deleteNatGateways,
  reconcileInternetGateway,
  reconcileNatGateways,
  releaseAddresses,
} from './services/gateways.js';
import { type ImageLookupOptions, ImageResolver } from './services/images.js';
import {
  deleteClusterVolumes,
  deleteInstance,
  ensureInstance,
  type MachineInfrastructure,
  terminateClusterInstances,
} from './services/instances.js';
import { setKubeadmKubernetesVersion } from './services/kubeadm-config.js';
import {
  deleteLoadBalancers,
  deleteTargetGroups,
  reconcileListener,
  reconcileLoadBalancer,
  reconcileTargetGroup,
} from './services/loadbalancer.js';
import { deleteRouteTables, reconcileRouteTables } from './services/routes.js';
import { deleteSecurityGroups, reconcileSecurityGroups } from './services/securitygroups.js';
import { deleteSubnets, deleteVpcs, reconcileSubnets, reconcileVpc } from './services/vpc.js';
import { KUBEADM_API_VERSION } from './userdata.js';

export interface AwsEc2ProviderOptions {
  /** Reads the Secret a Cluster's credentialsRef names. Without it, only the default chain works. */
  secrets?: SecretReader;
  /** The AWS client factory (tests and benchmarks pass one that counts calls). */
  clients?: AwsClientFactory;
  /** How machine images are looked up when a MachineTemplate names none. */
  images?: ImageLookupOptions;
  /**
   * How long infrastructure seen complete is trusted before ensureInfrastructure looks at every
   * resource again (drift repair). Default 20 minutes; a new Cluster generation looks at once.
   */
  verifyIntervalMs?: number;
  /** How long the instance view and healthy targets are trusted (defaults: DEFAULT_EC2_PERIODS). */
  periods?: Partial<Ec2Periods>;
  /**
   * How to reach a workload cluster's API as its admin (to set kubeadm-config's kubernetesVersion
   * before an upgrade; for the join tokens; for etcd, by port-forward). Default: through the load balancer with an admin
   * certificate.
   */
  workloadClient?: (admin: contract.KubeconfigMaterial) => KubeClient;
  /** How long a joining machine's bootstrap token is valid, extended while it has not joined. Default 15 min. */
  joinTokenTTLMs?: number;
}

interface Step {
  /** What the step reconciles, for messages: "the NAT gateways". */
  what: string;
  run: (s: Ec2Scope) => Promise<StepOutcome>;
}

/** The order of ensureInfrastructure. Each step checks that what it builds on exists. */
export const INFRASTRUCTURE_STEPS: Step[] = [
  { what: 'the VPC', run: reconcileVpc },
  { what: 'the subnets', run: reconcileSubnets },
  { what: 'the internet gateway', run: reconcileInternetGateway },
  { what: 'the security groups', run: reconcileSecurityGroups },
  { what: 'the NAT gateways', run: reconcileNatGateways },
  { what: 'the route tables', run: reconcileRouteTables },
  { what: 'the API load balancer', run: reconcileLoadBalancer },
  { what: 'the API target group', run: reconcileTargetGroup },
  { what: 'the API listener', run: reconcileListener },
];

interface DeletePhase {
  what: string;
  run: (s: Ec2Scope) => Promise<string[]>;
  /** How soon to look again while something of this type remains. */
  requeueAfterMs: number;
}

/** The order of deleteInfrastructure: what depends on something goes before it. */
export const DELETE_PHASES: DeletePhase[] = [
  { what: 'instances', run: terminateClusterInstances, requeueAfterMs: 5_000 },
  { what: 'volumes', run: deleteClusterVolumes, requeueAfterMs: 5_000 },
  { what: 'load balancers', run: deleteLoadBalancers, requeueAfterMs: 5_000 },
  { what: 'target groups', run: deleteTargetGroups, requeueAfterMs: 5_000 },
  { what: 'NAT gateways', run: deleteNatGateways, requeueAfterMs: 10_000 },
  { what: 'Elastic IPs', run: releaseAddresses, requeueAfterMs: 5_000 },
  { what: 'internet gateways', run: deleteInternetGateways, requeueAfterMs: 10_000 },
  { what: 'route tables', run: deleteRouteTables, requeueAfterMs: 5_000 },
  { what: 'subnets', run: deleteSubnets, requeueAfterMs: 10_000 },
  { what: 'security groups', run: deleteSecurityGroups, requeueAfterMs: 10_000 },
  { what: 'VPCs', run: deleteVpcs, requeueAfterMs: 10_000 },
];

const DEFAULT_VERIFY_INTERVAL_MS = 20 * 60_000;

/** The provider's periodic looks at AWS for a Ready cluster, at their defaults (the bench covers them). */
export const AWS_EC2_PERIODIC_LOOKS_MS = {
  infrastructureCheck: DEFAULT_VERIFY_INTERVAL_MS,
  ...DEFAULT_EC2_PERIODS,
};
const DELETED_MEMORY_MS = 10 * 60_000;

export class AwsEc2Provider implements contract.InfrastructureProvider {
  readonly name = 'aws-ec2' as const;
  readonly selfManagedControlPlane = true;
  readonly kubernetesVersions: VersionRange = {
    oldest: 'v1.31',
    why: `the machines' user data is ${KUBEADM_API_VERSION}, which kubeadm reads from v1.31 on`,
  };
  readonly podBlockPerNode = NODE_POD_PREFIX;
  readonly servesWorkloadAPI = true;
  readonly controlPlaneNodes = true;
  private readonly factory: AwsClientFactory;
  private readonly images: ImageResolver;
  private readonly states = new Map<string, ClusterState>();
  /** Clusters (by UID) whose deletion this process saw done: a repeated delete costs no call. */
  private readonly deleted = new Map<string, number>();
  private readonly verifyIntervalMs: number;
  private readonly periods: Ec2Periods;
  private readonly workloadClient: (admin: contract.KubeconfigMaterial) => KubeClient;
  private readonly tokens: JoinTokens;
  private readonly etcd: EtcdMembership;

  constructor(private readonly opts: AwsEc2ProviderOptions = {}) {
    this.factory = opts.clients ?? new AwsClientFactory();
    this.images = new ImageResolver(opts.images);
    this.verifyIntervalMs = opts.verifyIntervalMs ?? DEFAULT_VERIFY_INTERVAL_MS;
    this.periods = { ...DEFAULT_EC2_PERIODS, ...opts.periods };
    this.workloadClient =
      opts.workloadClient ?? ((admin) => workloadAdminClient(admin, 'clusterforge-aws-ec2'));
    this.tokens = new JoinTokens(
      async (ctx) => this.workloadClient(await this.kubeconfig(ctx)),
      opts.joinTokenTTLMs ?? DEFAULT_TOKEN_TTL_MS,
    );
    this.etcd = new EtcdMembership(async (ctx) => this.workloadClient(await this.kubeconfig(ctx)));
  }

  /** The scope of one call, or the Progress that says why there is none. */
  private async scope(ctx: contract.ClusterContext, machine?: string): Promise<Ec2Scope | Progress> {
    const spec = ctx.cluster.spec.infrastructure.awsEC2;
    if (!spec) return failed('NotAwsEC2', 'spec.infrastructure.awsEC2 is not set on this Cluster');
    const id = identityOf(ctx.cluster);
    const creds = await resolveCredentials(spec.credentialsRef, id.namespace, this.opts.secrets);
    if ('progress' in creds) return creds.progress;
    const clients = this.factory.get(spec.region, creds.credentials, creds.cacheKey);
    let state = this.states.get(id.uid);
    if (!state) {
      state = newClusterState();
      this.states.set(id.uid, state);
    }
    const log: Logger = ctx.log.child({
      provider: 'aws-ec2',
      cluster: `${id.namespace}/${id.name}`,
      ...(machine ? { machine } : {}),
    });
    return new Ec2Scope(ctx.cluster, clients, state, log, this.periods);
  }

  private endpointOf(s: Ec2Scope): contract.InfrastructureStatus['endpoint'] {
    const dns = s.state.loadBalancer?.dnsName;
    return dns ? { host: dns, port: API_SERVER_PORT } : undefined;
  }

  async ensureInfrastructure(ctx: contract.ClusterContext): Promise<contract.InfrastructureStatus> {
    const s = await this.scope(ctx);
    if (!(s instanceof Ec2Scope)) return { progress: s };
    const withEndpoint = (progress: Progress): contract.InfrastructureStatus => {
      const endpoint = this.endpointOf(s);
      return endpoint ? { progress, endpoint } : { progress };
    };
    if (
      s.state.verifiedAt &&
      Date.now() - s.state.verifiedAt < this.verifyIntervalMs &&
      s.state.verifiedGeneration === ctx.cluster.metadata.generation &&
      s.state.loadBalancer
    ) {
      return withEndpoint(done());
    }
    const waits: string[] = [];
    let requeue = 5_000;
    for (const step of INFRASTRUCTURE_STEPS) {
      try {
        const outcome = await step.run(s);
        if (!outcome.ready) {
          waits.push(outcome.waitingFor);
          if (outcome.requeueAfterMs) requeue = Math.min(requeue, outcome.requeueAfterMs);
        }
      } catch (err) {
        delete s.state.verifiedAt;
        const progress = progressFromError(err, `reconciling ${step.what}`);
        s.log.warn(
          { step: step.what, code: classifyAwsError(err).code, progress },
          'infrastructure step did not succeed',
        );
        return withEndpoint(progress);
      }
    }
    if (waits.length > 0) {
      delete s.state.verifiedAt;
      return withEndpoint(inProgress(`waiting for ${waits.join('; ')}`, requeue));
    }
    if (!s.state.verifiedAt) s.log.info({ endpoint: this.endpointOf(s) }, 'infrastructure ready');
    s.state.verifiedAt = Date.now();
    s.state.verifiedGeneration = ctx.cluster.metadata.generation;
    return withEndpoint(done());
  }

  async deleteInfrastructure(ctx: contract.ClusterContext): Promise<Progress> {
    const uid = identityOf(ctx.cluster).uid;
    const deletedAt = this.deleted.get(uid);
    if (deletedAt && Date.now() - deletedAt < DELETED_MEMORY_MS) return done();
    const s = await this.scope(ctx);
    if (!(s instanceof Ec2Scope)) return s;
    delete s.state.verifiedAt;
    // Phases this process already saw empty are skipped; the last pass always starts from the top,
    // so `done` means one sweep over every resource type found nothing tagged for the cluster.
    let from = s.state.deleteFrom ?? 0;
    for (;;) {
      for (let i = from; i < DELETE_PHASES.length; i++) {
        const phase = DELETE_PHASES[i] as DeletePhase;
        try {
          const remaining = await phase.run(s);
          if (remaining.length > 0) {
            s.state.deleteFrom = i;
            return inProgress(`deleting ${phase.what}: ${remaining.join('; ')}`, phase.requeueAfterMs);
          }
        } catch (err) {
          s.state.deleteFrom = i;
          const progress = progressFromError(err, `deleting ${phase.what}`);
          s.log.warn(
            { phase: phase.what, code: classifyAwsError(err).code, progress },
            'deletion step did not succeed',
          );
          return progress;
        }
      }
      if (from === 0) break;
      from = 0;
    }
    this.states.delete(s.id.uid);
    this.etcd.forget(s.id.uid);
    for (const [key, at] of this.deleted) if (Date.now() - at >= DELETED_MEMORY_MS) this.deleted.delete(key);
    this.deleted.set(s.id.uid, Date.now());
    s.log.info('infrastructure deleted');
    return done();
  }

  private async machineInfrastructure(
    s: Ec2Scope,
    ctx: contract.MachineContext,
  ): Promise<MachineInfrastructure | { waiting: string }> {
    const missing = await discoverForMachines(s);
    if (missing) return { waiting: `waiting for the cluster's ${missing}` };
    return {
      endpointHost: ctx.endpoint?.host ?? (s.state.loadBalancer?.dnsName as string),
      targetGroupArn: s.state.targetGroupArn as string,
    };
  }

  async ensureMachine(ctx: contract.MachineContext): Promise<contract.MachineStatusReport> {
    const s = await this.scope(ctx, ctx.machine.metadata.name);
    if (!(s instanceof Ec2Scope)) return { progress: s, ready: false };
    try {
      const infra = await this.machineInfrastructure(s, ctx);
      if ('waiting' in infra) return { progress: inProgress(infra.waiting, 5_000), ready: false };
      const held = await this.prepareVersion(s, ctx);
      if (held) return { progress: held, ready: false };
      const report = await ensureInstance(s, ctx, infra, this.images, {
        ttl: kubeadmTTL(this.tokens.ttlMs),
        forLaunch: (role) => this.tokens.forLaunch(ctx, role, s.log),
      });
      if (report.providerID) await this.tokens.tend(ctx, report.providerID, s.log);
      if (report.ready) await this.etcd.tidy(ctx, s.log);
      return report;
    } catch (err) {
      const progress = progressFromError(
        err,
        `ensuring the instance of machine ${ctx.machine.metadata.name}`,
      );
      s.log.warn({ code: classifyAwsError(err).code, progress }, 'machine step did not succeed');
      return { progress, ready: false };
    }
  }

  /**
   * Before the first instance of a control-plane machine whose version its peers do not run yet (an
   * upgrade), the workload cluster's kubeadm-config must name that version: `kubeadm join
   * --control-plane` takes the control-plane components' version from there. Returns the Progress
   * that holds the machine back, or undefined to go on.
   */
  private async prepareVersion(s: Ec2Scope, ctx: contract.MachineContext): Promise<Progress | undefined> {
    const { machine } = ctx;
    if (machine.spec.role !== 'ControlPlane' || machine.spec.providerID) return undefined;
    const upgrading = ctx.peers.some(
      (p) => p.spec.role === 'ControlPlane' && p.spec.version !== machine.spec.version,
    );
    if (!upgrading) return undefined;
    const version = machine.spec.version;
    try {
      const client = this.workloadClient(await this.kubeconfig(ctx));
      const outcome = await setKubeadmKubernetesVersion(client, version);
      if (outcome === 'updated') {
        s.log.info({ version }, "set kubernetesVersion in the workload cluster's kubeadm-config");
      }
      return undefined;
    } catch (err) {
      return inProgress(
        `waiting to set kubernetesVersion ${version} in the workload cluster's kube-system/kubeadm-config, which kubeadm join reads: ${apiMessage(err)}`,
        15_000,
      );
    }
  }

  async deleteMachine(ctx: contract.MachineContext): Promise<Progress> {
    const s = await this.scope(ctx, ctx.machine.metadata.name);
    if (!(s instanceof Ec2Scope)) return s;
    try {
      if (ctx.machine.spec.role === 'ControlPlane' && !s.state.targetGroupArn) await discoverLoadBalancing(s);
      const member = await this.etcd
        .beforeDelete(ctx, s.log)
        .catch((err: Error) =>
          inProgress(`waiting to remove the machine's etcd member: ${err.message}`, 15_000),
        );
      if (member.state !== 'done') return member;
      await this.tokens.remove(ctx, s.log);
      return await deleteInstance(s, ctx, s.state.targetGroupArn);
    } catch (err) {
      const progress = progressFromError(
        err,
        `deleting the instance of machine ${ctx.machine.metadata.name}`,
      );
      s.log.warn({ code: classifyAwsError(err).code, progress }, 'machine deletion step did not succeed');
      return progress;
    }
  }

  /** An admin client certificate from the cluster CA, for the API server behind the load balancer. */
  async kubeconfig(ctx: contract.ClusterContext): Promise<contract.KubeconfigMaterial> {
    const certs = ctx.certificates;
    if (!certs) throw new Error(`cluster ${ctx.cluster.metadata.name}: no certificates yet`);
    let host = ctx.cluster.status?.controlPlaneEndpoint?.host;
    if (!host) {
      const s = await this.scope(ctx);
      if (!(s instanceof Ec2Scope)) throw new Error(s.state === 'failed' ? s.message : 'no AWS scope');
      await discoverLoadBalancing(s);
      host = s.state.loadBalancer?.dnsName;
    }
    if (!host)
      throw new Error(`cluster ${ctx.cluster.metadata.name}: the API load balancer does not exist yet`);
    const admin = await issueAdminCertificate(certs.ca);
    return {
      server: `https://${host}:${API_SERVER_PORT}`,
      caData: certs.ca.cert,
      clientCertData: admin.cert,
      clientKeyData: admin.key,
      expiresAt: loadCertificate(admin.cert).notAfter,
    };
  }

  /** Closes the AWS clients (tests; the operator keeps them for its life). */
  destroy(): void {
    this.factory.destroy();
  }
}
