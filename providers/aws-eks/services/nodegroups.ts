// A MachineDeployment of an EKS cluster is a managed node group: created in the private subnets with
// the node role from the spec, scaled with UpdateNodegroupConfig, upgraded with UpdateNodegroupVersion
// (never past the control plane's version), deleted with the pool.
import {
  CreateNodegroupCommand,
  DeleteNodegroupCommand,
  DescribeNodegroupCommand,
  UpdateNodegroupConfigCommand,
  UpdateNodegroupVersionCommand,
} from '@aws-sdk/client-eks';
import type { MachineDeployment, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import {
  done,
  failed,
  inProgress,
  type NodePoolStatus,
  type Progress,
} from '../../../src/provider/contract.js';
import { ProviderFailure, unlessNotFound } from '../../aws-common/errors.js';
import { clientToken } from '../../aws-common/names.js';
import { isOwned } from '../../aws-common/tags.js';
import type { AwsEKSSpec, Ec2Scope } from '../../aws-ec2/scope.js';
import { minorNumber, minorOf } from './controlplane.js';

const poolUid = (pool: MachineDeployment) =>
  pool.metadata.uid ?? `${pool.metadata.namespace}/${pool.metadata.name}`;

/** The pool's minor version, held at the control plane's: a node is never newer than its API server. */
export function nodegroupVersion(pool: MachineDeployment, controlPlaneVersion: string): string {
  const wanted = minorOf(pool.spec.version);
  return minorNumber(wanted) <= minorNumber(controlPlaneVersion) ? wanted : controlPlaneVersion;
}

/**
 * The pool's counts as EKS shows them. EKS reports no per-node readiness: an ACTIVE node group at
 * its desired size counts as that many ready nodes (as Cluster API Provider AWS's managed machine
 * pools do); while it is being created, scaled or upgraded, none is counted ready or updated.
 */
function poolStatus(
  progress: Progress,
  ng: { status?: string; version?: string; scalingConfig?: { desiredSize?: number } } | undefined,
  wantedVersion: string,
): NodePoolStatus {
  const size = ng?.scalingConfig?.desiredSize ?? 0;
  const settled = ng?.status === 'ACTIVE' && progress.state === 'done';
  const current = ng?.version !== undefined && minorNumber(ng.version) >= minorNumber(wantedVersion);
  return {
    progress,
    replicas: size,
    readyReplicas: settled ? size : 0,
    updatedReplicas: settled && current ? size : 0,
    ...(ng?.version ? { version: `v${ng.version}` } : {}),
  };
}

export async function ensureNodegroup(
  s: Ec2Scope,
  spec: AwsEKSSpec,
  eksName: string,
  controlPlaneVersion: string,
  pool: MachineDeployment,
  template: MachineTemplate,
): Promise<NodePoolStatus> {
  const machine = template.spec.template.spec.awsEKS;
  if (!machine) {
    throw new ProviderFailure(
      'NotAwsEKSTemplate',
      `MachineTemplate ${template.metadata.name} has no spec.template.spec.awsEKS`,
    );
  }
  const eks = s.clients.eks;
  const nodegroupName = pool.metadata.name as string;
  const replicas = pool.spec.replicas;
  const version = nodegroupVersion(pool, controlPlaneVersion);
  const ng = (
    await unlessNotFound(eks.send(new DescribeNodegroupCommand({ clusterName: eksName, nodegroupName })))
  )?.nodegroup;
  if (ng && !isOwned(ng.tags ?? {}, s.id)) {
    throw new ProviderFailure(
      'NameTaken',
      `node group ${nodegroupName} of ${eksName} is not tagged as the cluster's`,
    );
  }
  if (!ng) {
    const subnets = s.state.subnets ?? [];
    const privates = subnets.filter((x) => !x.public);
    const out = await eks.send(
      new CreateNodegroupCommand({
        clusterName: eksName,
        nodegroupName,
        version,
        scalingConfig: { minSize: 0, maxSize: Math.max(replicas, 1), desiredSize: replicas },
        subnets: (privates.length > 0 ? privates : subnets).map((x) => x.id),
        instanceTypes: machine.instanceTypes,
        amiType: machine.amiType,
        diskSize: machine.diskSizeGiB,
        capacityType: machine.capacityType,
        nodeRole: spec.nodeRoleARN,
        labels: {
          'clusterforge.dev/cluster-name': s.name,
          'clusterforge.dev/deployment-name': nodegroupName,
        },
        tags: s.tags(`${s.name}-${nodegroupName}`, 'eks-nodegroup'),
        clientRequestToken: clientToken(poolUid(pool), 'eks-nodegroup'),
      }),
    );
    s.log.info({ nodegroup: nodegroupName, replicas, version }, 'created node group');
    const created = out.nodegroup;
    return poolStatus(
      created?.status === 'ACTIVE'
        ? done()
        : inProgress(`node group ${nodegroupName} is being created`, 30_000),
      created,
      version,
    );
  }
  const report = (progress: Progress) => poolStatus(progress, ng, version);
  switch (ng.status) {
    case 'ACTIVE':
      break;
    case 'CREATE_FAILED':
    case 'DELETE_FAILED':
    case 'DEGRADED': {
      const issues = (ng.health?.issues ?? []).map((i) => `${i.code}: ${i.message}`).join('; ');
      return report(
        failed(
          'NodegroupFailed',
          `node group ${nodegroupName} is ${ng.status}: ${issues || 'no reason given'}`,
        ),
      );
    }
    default:
      return report(inProgress(`node group ${nodegroupName} is ${ng.status}`, 30_000));
  }
  const scaling = ng.scalingConfig ?? {};
  if (scaling.desiredSize !== replicas) {
    await eks.send(
      new UpdateNodegroupConfigCommand({
        clusterName: eksName,
        nodegroupName,
        scalingConfig: {
          minSize: Math.min(scaling.minSize ?? 0, replicas),
          maxSize: Math.max(scaling.maxSize ?? 1, replicas, 1),
          desiredSize: replicas,
        },
        clientRequestToken: clientToken(
          poolUid(pool),
          `eks-nodegroup-scale/${pool.metadata.generation ?? 0}/${replicas}`,
        ),
      }),
    );
    s.log.info({ nodegroup: nodegroupName, from: scaling.desiredSize, to: replicas }, 'scaling node group');
    return report(
      inProgress(`scaling node group ${nodegroupName} from ${scaling.desiredSize} to ${replicas}`, 15_000),
    );
  }
  if (ng.version && minorNumber(ng.version) < minorNumber(version)) {
    await eks.send(
      new UpdateNodegroupVersionCommand({
        clusterName: eksName,
        nodegroupName,
        version,
        clientRequestToken: clientToken(poolUid(pool), `eks-nodegroup-version/${version}`),
      }),
    );
    s.log.info({ nodegroup: nodegroupName, from: ng.version, to: version }, 'upgrading node group');
    return report(
      inProgress(`upgrading node group ${nodegroupName} from ${ng.version} to ${version}`, 30_000),
    );
  }
  return report(done());
}

export async function deleteNodegroup(
  s: Ec2Scope,
  eksName: string,
  pool: MachineDeployment,
): Promise<Progress> {
  const eks = s.clients.eks;
  const nodegroupName = pool.metadata.name as string;
  const ng = (
    await unlessNotFound(eks.send(new DescribeNodegroupCommand({ clusterName: eksName, nodegroupName })))
  )?.nodegroup;
  if (!ng) return done();
  if (!isOwned(ng.tags ?? {}, s.id)) return done(); // not ours: never touched
  if (ng.status !== 'DELETING') {
    await unlessNotFound(eks.send(new DeleteNodegroupCommand({ clusterName: eksName, nodegroupName })));
    s.log.info({ nodegroup: nodegroupName }, 'deleting node group');
  }
  return inProgress(`node group ${nodegroupName} is being deleted`, 15_000);
}
