// The `aws-eks` infrastructure provider: a managed EKS control plane with managed node groups.
// - ensureInfrastructure: the network (the aws-ec2 provider's VPC, subnet, gateway and route steps);
// - ensureManagedControlPlane: the EKS cluster, watched to ACTIVE, upgraded one minor at a time;
// - ensureNodePool: a MachineDeployment as a managed node group (scale, upgrade);
// - kubeconfig: the cluster's endpoint and CA with a token presigned from STS GetCallerIdentity;
// - deleteInfrastructure: node groups, the EKS cluster, then the network, each by requeue.
// Machines are not used: EKS runs the workers.
import type { Logger } from 'pino';
import type { ControlPlane, MachineDeployment, MachineTemplate } from '../../src/api/v1alpha1/index.js';
import type * as contract from '../../src/provider/contract.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import { AwsClientFactory } from '../aws-common/clients.js';
import { resolveCredentials, type SecretReader } from '../aws-common/credentials.js';
import { classifyAwsError, progressFromError } from '../aws-common/errors.js';
import { DELETE_PHASES } from '../aws-ec2/provider.js';
import {
  type AwsEKSSpec,
  type ClusterState,
  Ec2Scope,
  identityOf,
  newClusterState,
  type StepOutcome,
} from '../aws-ec2/scope.js';
import { discoverSubnets, discoverVpc } from '../aws-ec2/services/discovery.js';
import { reconcileInternetGateway, reconcileNatGateways } from '../aws-ec2/services/gateways.js';
import { reconcileRouteTables } from '../aws-ec2/services/routes.js';
import { reconcileSubnets, reconcileVpc } from '../aws-ec2/services/vpc.js';
import {
  deleteControlPlane,
  describeOwnedCluster,
  eksClusterName,
  endpointOf,
  ensureControlPlane,
} from './services/controlplane.js';
import { deleteNodegroup, ensureNodegroup } from './services/nodegroups.js';
import { eksToken, getTokenExec } from './services/token.js';

export interface AwsEksProviderOptions {
  secrets?: SecretReader;
  clients?: AwsClientFactory;
}

const NETWORK_STEPS: { what: string; run: (s: Ec2Scope) => Promise<StepOutcome> }[] = [
  { what: 'the VPC', run: reconcileVpc },
  { what: 'the subnets', run: reconcileSubnets },
  { what: 'the internet gateway', run: reconcileInternetGateway },
  { what: 'the NAT gateways', run: reconcileNatGateways },
  { what: 'the route tables', run: reconcileRouteTables },
];

/**
 * A Ready cluster's network, seen complete, is trusted this long before every step looks again
 * (drift repair); a new Cluster generation looks at once. As aws-ec2's infrastructure check.
 */
const NETWORK_CHECK_INTERVAL_MS = 20 * 60_000;
/**
 * How old an ACTIVE EKS description may be for what only reads it (the endpoint, the kubeconfig's CA,
 * a node group's version check). ensureManagedControlPlane always asks afresh.
 */
const DESCRIPTION_MAX_AGE_MS = 5 * 60_000;

/** The provider's periodic looks at AWS for a Ready cluster, at their defaults (the bench covers them). */
export const AWS_EKS_PERIODIC_LOOKS_MS = {
  networkCheck: NETWORK_CHECK_INTERVAL_MS,
  description: DESCRIPTION_MAX_AGE_MS,
};

export class AwsEksProvider implements contract.InfrastructureProvider {
  readonly name = 'aws-eks' as const;
  readonly selfManagedControlPlane = false;
  readonly servesWorkloadAPI = true;
  private readonly factory: AwsClientFactory;
  private readonly states = new Map<string, ClusterState>();

  constructor(private readonly opts: AwsEksProviderOptions = {}) {
    this.factory = opts.clients ?? new AwsClientFactory();
  }

  private async scope(ctx: contract.ClusterContext): Promise<{ s: Ec2Scope; spec: AwsEKSSpec } | Progress> {
    const spec = ctx.cluster.spec.infrastructure.awsEKS;
    if (!spec) return failed('NotAwsEKS', 'spec.infrastructure.awsEKS is not set on this Cluster');
    const id = identityOf(ctx.cluster);
    const creds = await resolveCredentials(spec.credentialsRef, id.namespace, this.opts.secrets);
    if ('progress' in creds) return creds.progress;
    let state = this.states.get(id.uid);
    if (!state) {
      state = newClusterState();
      this.states.set(id.uid, state);
    }
    const log: Logger = ctx.log.child({ provider: 'aws-eks', cluster: `${id.namespace}/${id.name}` });
    const clients = this.factory.get(spec.region, creds.credentials, creds.cacheKey);
    return { s: new Ec2Scope(ctx.cluster, clients, state, log), spec };
  }

  /** Runs `work` in the cluster's scope, turning an error into the Progress it means. */
  private async within<T>(
    ctx: contract.ClusterContext,
    doing: string,
    work: (s: Ec2Scope, spec: AwsEKSSpec) => Promise<T>,
    wrap: (p: Progress) => T,
  ): Promise<T> {
    const scoped = await this.scope(ctx);
    if (!('s' in scoped)) return wrap(scoped);
    try {
      return await work(scoped.s, scoped.spec);
    } catch (err) {
      const progress = progressFromError(err, doing);
      scoped.s.log.warn({ code: classifyAwsError(err).code, progress }, `${doing} did not succeed`);
      return wrap(progress);
    }
  }

  /** The network, found again by tag after a restart. */
  private async network(s: Ec2Scope): Promise<void> {
    await discoverVpc(s);
    await discoverSubnets(s);
  }

  async ensureInfrastructure(ctx: contract.ClusterContext): Promise<contract.InfrastructureStatus> {
    return await this.within(
      ctx,
      'reconciling the network',
      async (s) => {
        const trusted =
          s.state.verifiedAt !== undefined &&
          Date.now() - s.state.verifiedAt < NETWORK_CHECK_INTERVAL_MS &&
          s.state.verifiedGeneration === ctx.cluster.metadata.generation;
        const waits: string[] = [];
        if (!trusted) {
          delete s.state.verifiedAt;
          for (const step of NETWORK_STEPS) {
            const outcome = await step.run(s);
            if (!outcome.ready) waits.push(outcome.waitingFor);
          }
          if (waits.length === 0) {
            s.state.verifiedAt = Date.now();
            s.state.verifiedGeneration = ctx.cluster.metadata.generation;
          }
        }
        const endpoint = endpointOf(await describeOwnedCluster(s, DESCRIPTION_MAX_AGE_MS));
        const progress = waits.length > 0 ? inProgress(`waiting for ${waits.join('; ')}`, 5_000) : done();
        return endpoint ? { progress, endpoint } : { progress };
      },
      (progress) => ({ progress }),
    );
  }

  async ensureManagedControlPlane(
    ctx: contract.ClusterContext,
    controlPlane: ControlPlane,
  ): Promise<contract.ManagedControlPlaneStatus> {
    return await this.within(
      ctx,
      'reconciling the EKS control plane',
      async (s, spec) => {
        await this.network(s);
        return await ensureControlPlane(s, spec, controlPlane);
      },
      (progress) => ({ progress }),
    );
  }

  async deleteManagedControlPlane(ctx: contract.ClusterContext): Promise<Progress> {
    return await this.within(
      ctx,
      'deleting the EKS control plane',
      (s) => deleteControlPlane(s),
      (p) => p,
    );
  }

  async ensureNodePool(
    ctx: contract.ClusterContext,
    pool: MachineDeployment,
    template: MachineTemplate,
  ): Promise<contract.NodePoolStatus> {
    const nothing = (progress: Progress): contract.NodePoolStatus => ({
      progress,
      replicas: 0,
      readyReplicas: 0,
      updatedReplicas: 0,
    });
    return await this.within(
      ctx,
      `reconciling node group ${pool.metadata.name}`,
      async (s, spec) => {
        const cluster = await describeOwnedCluster(s, DESCRIPTION_MAX_AGE_MS);
        if (cluster?.status !== 'ACTIVE' || !cluster.name || !cluster.version) {
          return nothing(inProgress('waiting for the EKS control plane to be ACTIVE', 15_000));
        }
        await this.network(s);
        return await ensureNodegroup(s, spec, cluster.name, cluster.version, pool, template);
      },
      nothing,
    );
  }

  async deleteNodePool(ctx: contract.ClusterContext, pool: MachineDeployment): Promise<Progress> {
    return await this.within(
      ctx,
      `deleting node group ${pool.metadata.name}`,
      (s) => deleteNodegroup(s, eksClusterName(s.id), pool),
      (p) => p,
    );
  }

  async deleteInfrastructure(ctx: contract.ClusterContext): Promise<Progress> {
    return await this.within(
      ctx,
      'deleting the infrastructure',
      async (s) => {
        const controlPlane = await deleteControlPlane(s);
        if (controlPlane.state !== 'done') return controlPlane;
        for (const phase of DELETE_PHASES) {
          const remaining = await phase.run(s);
          if (remaining.length > 0) {
            return inProgress(`deleting ${phase.what}: ${remaining.join('; ')}`, phase.requeueAfterMs);
          }
        }
        this.states.delete(s.id.uid);
        s.log.info('infrastructure deleted');
        return done();
      },
      (p) => p,
    );
  }

  async ensureMachine(_ctx: contract.MachineContext): Promise<contract.MachineStatusReport> {
    return {
      progress: failed('NotSupported', 'aws-eks runs workers as managed node groups; it makes no Machines'),
      ready: false,
    };
  }

  async deleteMachine(_ctx: contract.MachineContext): Promise<Progress> {
    return done();
  }

  /** The EKS endpoint and CA, with a token presigned from STS for the operator's own identity. */
  async kubeconfig(ctx: contract.ClusterContext): Promise<contract.KubeconfigMaterial> {
    const scoped = await this.scope(ctx);
    if (!('s' in scoped)) throw new Error(scoped.state === 'failed' ? scoped.message : 'no AWS scope');
    const { s, spec } = scoped;
    const cluster = await describeOwnedCluster(s, DESCRIPTION_MAX_AGE_MS);
    if (!cluster?.endpoint || !cluster.certificateAuthority?.data || !cluster.name) {
      throw new Error(`cluster ${s.id.namespace}/${s.name}: the EKS cluster has no endpoint yet`);
    }
    const credentials = await s.clients.sts.config.credentials();
    const { token, issuedAt, expiresAt } = eksToken({
      region: spec.region,
      credentials,
      clusterName: cluster.name,
    });
    // host:port, as the Cluster's controlPlaneEndpoint says it (the publisher compares the two).
    const endpoint = endpointOf(cluster) as { host: string; port: number };
    return {
      server: `https://${endpoint.host}:${endpoint.port}`,
      caData: cluster.certificateAuthority.data,
      token,
      issuedAt,
      expiresAt,
      userExec: getTokenExec(cluster.name, spec.region),
      ...(cluster.arn
        ? {
            managed: {
              provider: 'aws' as const,
              clusterName: cluster.name,
              arn: cluster.arn,
              region: spec.region,
              endpoint: cluster.endpoint,
            },
          }
        : {}),
    };
  }

  destroy(): void {
    this.factory.destroy();
  }
}
