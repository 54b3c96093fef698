// Security groups for the API server's load balancer, the control plane and the nodes, with the
// rules a kubeadm cluster needs (Calico's BGP and IP-in-IP between machines). The groups are the
// cluster's own: rules found on them that are not wanted are revoked, missing ones authorized.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { classifyAwsError, unlessNotFound } from '../../aws-common/errors.js';
import { roleOf } from '../../aws-common/tags.js';
import {
  API_SERVER_PORT,
  type Ec2Scope,
  ready,
  type SecurityGroupRole,
  type StepOutcome,
  waiting,
} from '../scope.js';
import { ANYWHERE, type DeletableKind, deleteEach } from './common.js';

export const SECURITY_GROUP_ROLES: Record<SecurityGroupRole, { tag: string; description: string }> = {
  apiServerLB: { tag: 'sg-apiserver-lb', description: 'Kubernetes API server load balancer' },
  controlPlane: { tag: 'sg-controlplane', description: 'Kubernetes control plane machines' },
  node: { tag: 'sg-node', description: 'Kubernetes worker machines' },
};

type Source = { cidr: string } | { group: SecurityGroupRole };

export interface IngressRule {
  /** tcp, udp, or an IP protocol number ('4' is IP-in-IP). */
  protocol: string;
  fromPort: number;
  toPort: number;
  source: Source;
  description: string;
}

const tcp = (port: number | [number, number], source: Source, description: string): IngressRule => {
  const [fromPort, toPort] = Array.isArray(port) ? port : [port, port];
  return { protocol: 'tcp', fromPort, toPort, source, description };
};
const fromGroups = (groups: SecurityGroupRole[], make: (source: Source) => IngressRule): IngressRule[] =>
  groups.map((group) => make({ group }));
const calico = (groups: SecurityGroupRole[]): IngressRule[] => [
  ...fromGroups(groups, (src) => tcp(179, src, 'BGP (Calico)')),
  ...fromGroups(groups, (src) => ({
    protocol: '4',
    fromPort: -1,
    toPort: -1,
    source: src,
    description: 'IP-in-IP (Calico)',
  })),
];

/** The ingress rules of each group. Egress stays AWS's default: everything. */
export function desiredIngress(): Record<SecurityGroupRole, IngressRule[]> {
  const machines: SecurityGroupRole[] = ['controlPlane', 'node'];
  return {
    apiServerLB: [tcp(API_SERVER_PORT, { cidr: ANYWHERE }, 'Kubernetes API')],
    controlPlane: [
      tcp(API_SERVER_PORT, { group: 'apiServerLB' }, 'Kubernetes API from the load balancer'),
      ...fromGroups(machines, (src) => tcp(API_SERVER_PORT, src, 'Kubernetes API from the machines')),
      tcp([2379, 2380], { group: 'controlPlane' }, 'etcd'),
      ...fromGroups(machines, (src) => tcp(10250, src, 'kubelet API')),
      ...calico(machines),
    ],
    node: [
      tcp([30000, 32767], { cidr: ANYWHERE }, 'NodePort services'),
      ...fromGroups(machines, (src) => tcp(10250, src, 'kubelet API')),
      ...calico(machines),
    ],
  };
}

const PORTED = new Set(['tcp', 'udp', 'icmp', 'icmpv6', '6', '17', '1', '58']);

function ruleKey(protocol: string, from: number | undefined, to: number | undefined, source: string): string {
  const p = protocol.toLowerCase();
  const ported = PORTED.has(p);
  return `${p}|${ported ? (from ?? -1) : -1}|${ported ? (to ?? -1) : -1}|${source}`;
}

/** One source a permission allows, and the permission that revokes that source alone. */
type SourceRule = readonly [source: string | undefined, only: IpPermission];

/** Every (protocol, ports, source) pair a group allows, keyed, with the permission that revokes it. */
function currentRules(group: SecurityGroup): Map<string, IpPermission> {
  const out = new Map<string, IpPermission>();
  for (const p of group.IpPermissions ?? []) {
    const base = { IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort };
    // A permission lists its sources in four lists, one per kind of source.
    const sources: SourceRule[] = [
      ...(p.IpRanges ?? []).map((r): SourceRule => [r.CidrIp, { IpRanges: [{ CidrIp: r.CidrIp }] }]),
      ...(p.UserIdGroupPairs ?? []).map(
        (g): SourceRule => [g.GroupId, { UserIdGroupPairs: [{ GroupId: g.GroupId }] }],
      ),
      ...(p.Ipv6Ranges ?? []).map(
        (r): SourceRule => [r.CidrIpv6, { Ipv6Ranges: [{ CidrIpv6: r.CidrIpv6 }] }],
      ),
      ...(p.PrefixListIds ?? []).map(
        (r): SourceRule => [r.PrefixListId, { PrefixListIds: [{ PrefixListId: r.PrefixListId }] }],
      ),
    ];
    for (const [source, only] of sources) {
      out.set(ruleKey(p.IpProtocol ?? '', p.FromPort, p.ToPort, source ?? ''), { ...base, ...only });
    }
  }
  return out;
}

function permissionOf(rule: IngressRule, groupIds: Record<SecurityGroupRole, string>): IpPermission {
  const base = { IpProtocol: rule.protocol, FromPort: rule.fromPort, ToPort: rule.toPort };
  return 'cidr' in rule.source
    ? { ...base, IpRanges: [{ CidrIp: rule.source.cidr, Description: rule.description }] }
    : {
        ...base,
        UserIdGroupPairs: [{ GroupId: groupIds[rule.source.group], Description: rule.description }],
      };
}

async function authorize(s: Ec2Scope, groupId: string, permissions: IpPermission[]): Promise<void> {
  const ec2 = s.clients.ec2;
  try {
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: permissions }),
    );
  } catch (err) {
    if (classifyAwsError(err).kind !== 'duplicate') throw err;
    // Some were there already (a concurrent or retried call): one by one, the duplicates skipped.
    for (const permission of permissions) {
      try {
        await ec2.send(
          new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [permission] }),
        );
      } catch (inner) {
        if (classifyAwsError(inner).kind !== 'duplicate') throw inner;
      }
    }
  }
}

export async function reconcileSecurityGroups(s: Ec2Scope): Promise<StepOutcome> {
  const ec2 = s.clients.ec2;
  const vpc = s.state.vpc;
  if (!vpc) return waiting('the VPC');
  const found = s.mine(
    (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: s.filters({}, vpc.id) }))).SecurityGroups,
  );
  const groups = {} as Record<SecurityGroupRole, SecurityGroup>;
  for (const role of Object.keys(SECURITY_GROUP_ROLES) as SecurityGroupRole[]) {
    const { tag, description } = SECURITY_GROUP_ROLES[role];
    let group = found.find((g) => roleOf(g.Tags) === tag);
    if (!group) {
      const name = s.uniqueName(tag.replace(/^sg-/, ''));
      const out = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: `${description} of cluster ${s.id.namespace}/${s.name}`,
          VpcId: vpc.id,
          TagSpecifications: [s.tagSpec('security-group', name, tag)],
        }),
      );
      if (!out.GroupId) throw new Error('CreateSecurityGroup answered without a group');
      s.log.info({ securityGroup: out.GroupId, role }, 'created security group');
      group = { GroupId: out.GroupId, IpPermissions: [] };
    }
    groups[role] = group;
  }
  const ids = Object.fromEntries(
    Object.entries(groups).map(([role, g]) => [role, g.GroupId as string]),
  ) as Record<SecurityGroupRole, string>;
  s.state.securityGroups = ids;

  const desired = desiredIngress();
  for (const role of Object.keys(groups) as SecurityGroupRole[]) {
    const current = currentRules(groups[role]);
    const wanted = new Map<string, IngressRule>();
    for (const rule of desired[role]) {
      const source = 'cidr' in rule.source ? rule.source.cidr : ids[rule.source.group];
      wanted.set(ruleKey(rule.protocol, rule.fromPort, rule.toPort, source), rule);
    }
    const missing = [...wanted.entries()]
      .filter(([k]) => !current.has(k))
      .map(([, r]) => permissionOf(r, ids));
    const extra = [...current.entries()].filter(([k]) => !wanted.has(k)).map(([, p]) => p);
    if (missing.length > 0) await authorize(s, ids[role], missing);
    if (extra.length > 0) {
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: ids[role], IpPermissions: extra }));
      s.log.info({ securityGroup: ids[role], revoked: extra.length }, 'revoked unwanted ingress rules');
    }
  }
  return ready;
}

const SECURITY_GROUP: DeletableKind = { noun: 'security group', logKey: 'securityGroup', heldBy: 'group-id' };

/** Deletes the cluster's groups: their rules first (the groups refer to each other), then the groups. */
export async function deleteSecurityGroups(s: Ec2Scope): Promise<string[]> {
  const ec2 = s.clients.ec2;
  const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: s.filters() }));
  const groups = s.mine(out.SecurityGroups).filter((g) => g.GroupName !== 'default');
  for (const g of groups) {
    const permissions = [...currentRules(g).values()];
    if (permissions.length > 0) {
      await unlessNotFound(
        ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: g.GroupId, IpPermissions: permissions })),
      );
    }
  }
  const doomed = groups.map((g) => ({
    id: g.GroupId as string,
    what: `security group ${g.GroupId} (${g.GroupName})`,
  }));
  return deleteEach(s, SECURITY_GROUP, doomed, (id) =>
    ec2.send(new DeleteSecurityGroupCommand({ GroupId: id })),
  );
}
