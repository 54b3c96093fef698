// The managed control plane: an EKS cluster in the cluster's subnets, created with the role the spec
// names, watched to ACTIVE by requeue, upgraded one minor version at a time, deleted after its node
// groups. Found again by its name (derived from the Cluster) and checked to be ours by tag.
import { createHash } from 'node:crypto';
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DeleteNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  type Cluster as EksCluster,
  ListNodegroupsCommand,
  UpdateClusterVersionCommand,
} from '@aws-sdk/client-eks';
import type { ControlPlane } from '../../../src/api/v1alpha1/index.js';
import {
  done,
  failed,
  type InfrastructureStatus,
  inProgress,
  type ManagedControlPlaneStatus,
  type Progress,
} from '../../../src/provider/contract.js';
import { ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';
import { clientToken } from '../../aws-common/names.js';
import { isOwned } from '../../aws-common/tags.js';
import type { AwsEKSSpec, Ec2Scope } from '../../aws-ec2/scope.js';

const EKS_NAME_MAX = 100;

/** `<namespace>_<name>` (as Cluster API Provider AWS names EKS clusters), hashed when too long. */
export function eksClusterName(id: { namespace: string; name: string }): string {
  const name = `${id.namespace}_${id.name}`;
  if (name.length <= EKS_NAME_MAX) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, EKS_NAME_MAX - hash.length - 1)}-${hash}`;
}

/** `v1.31.2` → `1.31`: EKS versions are minor versions. */
export function minorOf(version: string): string {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) throw new ProviderFailure('InvalidVersion', `not a Kubernetes version: ${version}`);
  return `${m[1]}.${m[2]}`;
}

export const minorNumber = (minor: string): number => Number(minor.split('.')[1]);

const tagRecordOwned = (tags: Record<string, string> | undefined, s: Ec2Scope) => isOwned(tags ?? {}, s.id);

/**
 * The last ACTIVE description of each cluster's EKS cluster (keyed by the provider's per-cluster
 * state), so the periodic looks of a settled cluster (its endpoint for the Cluster, the token's
 * CA, a node group's version check) share one DescribeCluster. Anything that changes the EKS
 * cluster forgets it.
 */
const lastActive = new WeakMap<object, { cluster: EksCluster; at: number }>();

/** Forgets the remembered description: the EKS cluster is being changed. */
export function forgetDescription(s: Ec2Scope): void {
  lastActive.delete(s.state);
}

/**
 * The cluster's EKS cluster, or undefined; one of that name that is not ours fails. With
 * `maxAgeMs`, an ACTIVE description at most that old is answered without a call.
 */
export async function describeOwnedCluster(s: Ec2Scope, maxAgeMs = 0): Promise<EksCluster | undefined> {
  const remembered = lastActive.get(s.state);
  if (remembered && Date.now() - remembered.at < maxAgeMs) return remembered.cluster;
  const name = eksClusterName(s.id);
  const out = await unlessNotFound(s.clients.eks.send(new DescribeClusterCommand({ name })));
  const cluster = out?.cluster;
  if (cluster && !tagRecordOwned(cluster.tags, s)) {
    throw new ProviderFailure(
      'NameTaken',
      `an EKS cluster named ${name} exists in ${s.spec.region} but is not tagged as owned by cluster ${s.id.namespace}/${s.name}; it is left alone`,
    );
  }
  if (cluster?.status === 'ACTIVE') lastActive.set(s.state, { cluster, at: Date.now() });
  else lastActive.delete(s.state);
  return cluster;
}

export function endpointOf(cluster: EksCluster | undefined): InfrastructureStatus['endpoint'] {
  if (!cluster?.endpoint) return undefined;
  const url = new URL(cluster.endpoint);
  return { host: url.hostname, port: url.port ? Number(url.port) : 443 };
}

const health = (c: { health?: { issues?: { code?: string; message?: string }[] } }) =>
  (c.health?.issues ?? []).map((i) => `${i.code}: ${i.message}`).join('; ') || 'no reason given';

export async function ensureControlPlane(
  s: Ec2Scope,
  spec: AwsEKSSpec,
  controlPlane: ControlPlane,
): Promise<ManagedControlPlaneStatus> {
  const subnets = s.state.subnets ?? [];
  if (subnets.length === 0) return { progress: inProgress('waiting for the cluster network', 5_000) };
  const desired = minorOf(controlPlane.spec.version);
  let cluster = await describeOwnedCluster(s);
  if (!cluster) {
    const name = eksClusterName(s.id);
    const out = await s.clients.eks.send(
      new CreateClusterCommand({
        name,
        version: desired,
        roleArn: spec.roleARN,
        resourcesVpcConfig: {
          subnetIds: subnets.map((x) => x.id),
          endpointPublicAccess: spec.endpointAccess.public,
          endpointPrivateAccess: spec.endpointAccess.private,
        },
        kubernetesNetworkConfig: { serviceIpv4Cidr: s.cluster.spec.clusterNetwork.services.cidrBlocks[0] },
        // The operator's identity administers the cluster: the kubeconfig token is made from it.
        accessConfig: {
          authenticationMode: 'API_AND_CONFIG_MAP',
          bootstrapClusterCreatorAdminPermissions: true,
        },
        tags: s.tags(name, 'eks-cluster'),
        clientRequestToken: clientToken(s.id.uid, 'eks-cluster'),
      }),
    );
    cluster = out.cluster;
    s.log.info({ eksCluster: name, version: desired, status: cluster?.status }, 'created EKS cluster');
  }
  const endpoint = endpointOf(cluster);
  const version = cluster?.version ? `v${cluster.version}` : undefined;
  const report = (progress: Progress): ManagedControlPlaneStatus => ({
    progress,
    ...(endpoint ? { endpoint } : {}),
    ...(version ? { version } : {}),
  });
  switch (cluster?.status) {
    case 'ACTIVE':
      break;
    case 'FAILED':
      return report(failed('EKSClusterFailed', `EKS cluster ${cluster.name} failed: ${health(cluster)}`));
    case 'DELETING':
      return report(inProgress(`EKS cluster ${cluster.name} is being deleted`, 30_000));
    default:
      return report(
        inProgress(`EKS cluster ${cluster?.name} is ${cluster?.status ?? 'being created'}`, 30_000),
      );
  }
  const current = cluster.version ?? desired;
  if (minorNumber(desired) < minorNumber(current)) {
    return report(
      failed('VersionDowngrade', `the EKS control plane runs ${current}; it cannot go back to ${desired}`),
    );
  }
  if (minorNumber(desired) > minorNumber(current)) {
    // One minor version at a time, as EKS (and the skew policy) requires.
    const next = `${current.split('.')[0]}.${minorNumber(current) + 1}`;
    forgetDescription(s);
    await s.clients.eks.send(
      new UpdateClusterVersionCommand({
        name: cluster.name,
        version: next,
        clientRequestToken: clientToken(s.id.uid, `eks-cluster-version/${next}`),
      }),
    );
    s.log.info({ eksCluster: cluster.name, from: current, to: next }, 'upgrading the EKS control plane');
    return report(inProgress(`upgrading the EKS control plane from ${current} to ${next}`, 30_000));
  }
  return report(done());
}

/** Deletes the node groups still there (ours), then the cluster; done once it is gone. */
export async function deleteControlPlane(s: Ec2Scope): Promise<Progress> {
  const cluster = await describeOwnedCluster(s);
  if (!cluster?.name) return done();
  const eks = s.clients.eks;
  const groups = (await eks.send(new ListNodegroupsCommand({ clusterName: cluster.name }))).nodegroups ?? [];
  const remaining: string[] = [];
  for (const nodegroupName of groups) {
    const ng = (
      await unlessNotFound(
        eks.send(new DescribeNodegroupCommand({ clusterName: cluster.name, nodegroupName })),
      )
    )?.nodegroup;
    if (!ng) continue;
    if (!tagRecordOwned(ng.tags, s)) {
      remaining.push(`node group ${nodegroupName} (not the cluster's; delete it to go on)`);
      continue;
    }
    if (ng.status !== 'DELETING') {
      await unlessNotFound(
        eks.send(new DeleteNodegroupCommand({ clusterName: cluster.name, nodegroupName })),
      );
      s.log.info({ nodegroup: nodegroupName }, 'deleting node group');
    }
    remaining.push(`node group ${nodegroupName} (deleting)`);
  }
  if (remaining.length > 0)
    return inProgress(`deleting the EKS node groups first: ${remaining.join('; ')}`, 15_000);
  forgetDescription(s);
  if (cluster.status !== 'DELETING') {
    await unlessNotFound(eks.send(new DeleteClusterCommand({ name: cluster.name })));
    s.log.info({ eksCluster: cluster.name }, 'deleting EKS cluster');
  }
  return inProgress(`EKS cluster ${cluster.name} is being deleted`, 30_000);
}
