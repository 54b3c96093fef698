// What one provider call works with: the cluster, its AWS clients, its tags, and what this process
// has learned about its resources (IDs to look up first; lost on restart, then found again by tag).
import type { Filter, Instance, ResourceType, TagSpecification } from '@aws-sdk/client-ec2';
import type { Logger } from 'pino';
import type { Cluster } from '../../src/api/v1alpha1/index.js';
import type { AwsClients } from '../aws-common/clients.js';
import { clusterHash, elbName } from '../aws-common/names.js';
import {
  type ClusterIdentity,
  clusterTagKey,
  isOwned,
  ownedFilters,
  ownedTags,
  tagSpecification,
} from '../aws-common/tags.js';

export type AwsEC2Spec = NonNullable<Cluster['spec']['infrastructure']['awsEC2']>;
export type AwsEKSSpec = NonNullable<Cluster['spec']['infrastructure']['awsEKS']>;
/** What the network services read: the part both AWS providers' specs share. */
export type AwsNetworkSpec = Pick<AwsEC2Spec, 'region' | 'credentialsRef' | 'network' | 'additionalTags'> & {
  sshKeyName?: string;
};

export interface SubnetRecord {
  id: string;
  zone: string;
  cidr: string;
  public: boolean;
  /** Created by the cluster (tagged owned); false for a subnet given by ID. */
  owned: boolean;
}

export type SecurityGroupRole = 'apiServerLB' | 'controlPlane' | 'node';

/** What this process knows of one cluster's infrastructure. */
export interface ClusterState {
  vpc?: { id: string; cidr: string; managed: boolean };
  /** The VPC's DNS attributes were set by this process (done once per process and VPC). */
  vpcAttributesSetFor?: string;
  zones?: string[];
  subnets?: SubnetRecord[];
  internetGatewayId?: string;
  /** NAT gateway ID by the zone of the private subnets it serves. */
  natByZone?: Record<string, string>;
  securityGroups?: Partial<Record<SecurityGroupRole, string>>;
  loadBalancer?: { arn: string; dnsName: string; active: boolean };
  /** ARNs whose ownership was checked by tag in this process. */
  targetGroupArn?: string;
  listenerArn?: string;
  /** When every step was last seen done (ms since the epoch), and for which Cluster generation. */
  verifiedAt?: number;
  verifiedGeneration?: number;
  /** Target group attributes were set by this process. */
  targetGroupAttributesSet?: boolean;
  /** The first delete phase not yet seen empty by this process. */
  deleteFrom?: number;
  /** Instance ID by Machine UID. */
  instances: Map<string, string>;
  /** When each instance was last seen healthy in the API target group. */
  registered: Map<string, number>;
  /**
   * The instance view: a recent listing of the cluster's live instances, shared by all its machines'
   * status questions (never used to decide a create).
   */
  instanceList?: { at: number; instances: Instance[] };
  /** The instance view's refresh in flight, which concurrent machine calls share. */
  instanceRefresh?: Promise<Instance[]>;
}

/** How long what was seen of a Ready cluster is trusted before AWS is asked again. */
export interface Ec2Periods {
  /**
   * The instance view answers every machine's status for this long; then one tag-filtered
   * DescribeInstances refreshes it for the whole cluster. Bounds how late a terminated or stopped
   * instance is noticed (plus the Machine resync, 60 s).
   */
  instanceViewTtlMs: number;
  /** A control-plane instance seen healthy in the API target group is trusted this long. */
  targetHealthTtlMs: number;
}

export const DEFAULT_EC2_PERIODS: Ec2Periods = {
  instanceViewTtlMs: 3 * 60_000,
  targetHealthTtlMs: 20 * 60_000,
};

export function newClusterState(): ClusterState {
  return { instances: new Map(), registered: new Map() };
}

export const API_SERVER_PORT = 6443;

export class Ec2Scope {
  readonly id: ClusterIdentity;
  readonly spec: AwsNetworkSpec;

  constructor(
    readonly cluster: Cluster,
    readonly clients: AwsClients,
    readonly state: ClusterState,
    readonly log: Logger,
    readonly periods: Ec2Periods = DEFAULT_EC2_PERIODS,
  ) {
    const spec = cluster.spec.infrastructure.awsEC2 ?? cluster.spec.infrastructure.awsEKS;
    if (!spec) throw new Error('neither spec.infrastructure.awsEC2 nor awsEKS is set');
    this.spec = spec;
    this.id = identityOf(cluster);
  }

  get name(): string {
    return this.id.name;
  }

  get ownedTagKey(): string {
    return clusterTagKey(this.id);
  }

  /** The tags of a resource the cluster owns. */
  tags(name: string, role?: string, extra?: Record<string, string>): Record<string, string> {
    return ownedTags(this.id, {
      name,
      ...(role ? { role } : {}),
      ...(extra ? { extra } : {}),
      ...(this.spec.additionalTags ? { additional: this.spec.additionalTags } : {}),
    });
  }

  tagSpec(type: ResourceType, name: string, role?: string, extra?: Record<string, string>): TagSpecification {
    return tagSpecification(type, this.tags(name, role, extra));
  }

  /** Filters for what the cluster owns (plus `tag:` filters), optionally within the VPC. */
  filters(more: Record<string, string> = {}, vpcId?: string): Filter[] {
    return [...ownedFilters(this.id, more), ...(vpcId ? [{ Name: 'vpc-id', Values: [vpcId] }] : [])];
  }

  /**
   * Of what a tag-filtered describe returned, what really carries the owned tag: the filter is
   * checked again here, as not every API (nor every emulator) applies every filter.
   */
  mine<T extends { Tags?: { Key?: string; Value?: string }[] }>(items: T[] | undefined): T[] {
    return (items ?? []).filter((x) => isOwned(x.Tags, this.id));
  }

  /** A name unique to this cluster's incarnation (security group names must be unique per VPC). */
  uniqueName(suffix: string): string {
    return `${this.id.name}-${clusterHash(this.id)}-${suffix}`;
  }

  get loadBalancerName(): string {
    return elbName(this.id, 'api');
  }

  get targetGroupName(): string {
    return elbName(this.id, 'api');
  }
}

export function identityOf(cluster: Cluster): ClusterIdentity {
  const namespace = cluster.metadata.namespace ?? 'default';
  const name = cluster.metadata.name ?? '';
  return { namespace, name, uid: cluster.metadata.uid ?? `${namespace}/${name}` };
}

/** The result of one idempotent step: everything is in place, or what it still waits for. */
export type StepOutcome = { ready: true } | { ready: false; waitingFor: string; requeueAfterMs?: number };

export const ready: StepOutcome = { ready: true };
export const waiting = (waitingFor: string, requeueAfterMs?: number): StepOutcome => ({
  ready: false,
  waitingFor,
  ...(requeueAfterMs ? { requeueAfterMs } : {}),
});
