// The rules of serviceDomain, machine settings (EKS instance types, instance profiles, EBS IOPS),
// publishing and aws-ec2 pod blocks, against the real API server: each bad object is refused with the
// field named and what would work, and nothing is stored; each edge case that works is stored as given.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCRDs } from '../../support/crds.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { cluster, ec2, eks, expectRefusal, inNamespace, type Obj, refusal, template } from './objects.js';

const kc = testKubeConfig();
const client = KubernetesObjectApi.makeApiClient(kc);
const namespace = useTestNamespace('admission-rules');
const { withNamespace, exists } = inNamespace(client, namespace);

const withDomain = (serviceDomain: string) =>
  cluster({ infrastructure: { local: {} }, clusterNetwork: { serviceDomain } });
const ec2Machine = (settings: Obj) => template({ awsEC2: { instanceType: 'm7i.large', ...settings } });
const volume = (rootVolume: Obj) => ec2Machine({ rootVolume });
const eksTypes = (instanceTypes: string[]) => template({ awsEKS: { instanceTypes } });
const ROLE = 'arn:aws:iam::123456789012:role/argocd';

const VOLUME = 'spec.template.spec.awsEC2.rootVolume';

// [what is wrong, the object, the field the message must name, a phrase of the message]
const refused: [string, Obj, string, string][] = [
  [
    'a service domain in capitals',
    withDomain('Cluster.Local'),
    'spec.clusterNetwork.serviceDomain',
    'must be a DNS subdomain',
  ],
  [
    'a service domain with an empty label',
    withDomain('cluster..local'),
    'spec.clusterNetwork.serviceDomain',
    'for example cluster.local',
  ],
  [
    'a service domain with a label over 63 characters',
    withDomain(`${'a'.repeat(64)}.local`),
    'spec.clusterNetwork.serviceDomain',
    '63 at most',
  ],
  [
    'a service domain ending in a hyphen',
    withDomain('cluster-'),
    'spec.clusterNetwork.serviceDomain',
    'must be a DNS subdomain',
  ],
  [
    'an EKS instance type without a size',
    eksTypes(['m7i.large', 'm5large']),
    'spec.template.spec.awsEKS.instanceTypes',
    'an EC2 family and size joined by a dot',
  ],
  [
    'an EKS instance type in capitals',
    eksTypes(['M5.Large']),
    'spec.template.spec.awsEKS.instanceTypes',
    'for example m7i.large',
  ],
  [
    'a role ARN given as the instance profile',
    ec2Machine({ iamInstanceProfile: 'arn:aws:iam::123456789012:role/nodes' }),
    'spec.template.spec.awsEC2.iamInstanceProfile',
    'is an IAM role ARN, and EC2 takes an instance profile here',
  ],
  [
    'an instance profile name with a space',
    ec2Machine({ iamInstanceProfile: 'my nodes' }),
    'spec.template.spec.awsEC2.iamInstanceProfile',
    'must be an instance profile name',
  ],
  [
    'an io1 volume without IOPS',
    volume({ type: 'io1' }),
    `${VOLUME}.iops`,
    'io1 and io2 volumes need provisioned IOPS: set iops',
  ],
  [
    'an io2 volume without IOPS',
    volume({ type: 'io2', sizeGiB: 100 }),
    `${VOLUME}.iops`,
    'need provisioned IOPS',
  ],
  [
    'io1 IOPS over what io1 takes',
    volume({ type: 'io1', sizeGiB: 2000, iops: 70000 }),
    `${VOLUME}.iops`,
    'io1 takes from 100 to 64,000 IOPS',
  ],
  [
    'io1 IOPS over 50 per GiB',
    volume({ type: 'io1', sizeGiB: 40, iops: 2001 }),
    `${VOLUME}.iops`,
    'io1 takes at most 50 IOPS per GiB',
  ],
  [
    'gp3 IOPS under its baseline',
    volume({ type: 'gp3', iops: 2000 }),
    `${VOLUME}.iops`,
    'gp3 takes from 3,000 to 16,000 IOPS',
  ],
  ['IOPS on gp2', volume({ type: 'gp2', iops: 3000 }), `${VOLUME}.iops`, 'gp2 IOPS follow the size'],
  [
    'a throughput on io2',
    volume({ type: 'io2', iops: 1000, throughput: 500 }),
    `${VOLUME}.throughput`,
    'only gp3 volumes take a throughput',
  ],
  [
    'a gp3 throughput over a quarter of its IOPS',
    volume({ type: 'gp3', throughput: 1000 }),
    `${VOLUME}.throughput`,
    'at most 0.25 MiB/s of throughput per IOPS',
  ],
  [
    'an Argo CD AWS role on an EC2 cluster',
    cluster({ infrastructure: { awsEC2: ec2 }, publish: { argoCD: { awsRoleARN: ROLE } } }),
    'spec.publish.argoCD.awsRoleARN',
    'for EKS clusters only',
  ],
  [
    'an Argo CD AWS role on a local cluster',
    cluster({ infrastructure: { local: {} }, publish: { argoCD: { awsRoleARN: ROLE } } }),
    'spec.publish.argoCD.awsRoleARN',
    'remove awsRoleARN',
  ],
  [
    'a label to copy written as key=value',
    cluster({ infrastructure: { local: {} }, publish: { fleet: { labels: ['env', 'team=platform'] } } }),
    'spec.publish.fleet.labels[1]',
    'write team, not team=platform',
  ],
  [
    'a label to copy that is no label key',
    cluster({ infrastructure: { local: {} }, publish: { argoCD: { labels: ['-team'] } } }),
    'spec.publish.argoCD.labels[0]',
    'must be a label key',
  ],
  [
    'an aws-ec2 pod block smaller than one node’s /24',
    cluster({
      infrastructure: { awsEC2: ec2 },
      clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/25'] } },
    }),
    'spec.clusterNetwork.pods.cidrBlocks',
    'each aws-ec2 node takes a /24 of the pod block',
  ],
];

// Edges of the same rules that work: each is stored as given.
const accepted: [string, Obj][] = [
  ['a one-label service domain', withDomain('local')],
  [
    'a service domain of many labels, one of 63 characters',
    withDomain(`${'a'.repeat(63)}.example-corp.internal`),
  ],
  [
    'EKS instance types of every shape',
    eksTypes(['m5.large', 'c6g.2xlarge', 'm7i-flex.large', 'u-6tb1.metal']),
  ],
  ['an instance profile by name', ec2Machine({ iamInstanceProfile: 'clusterforge-nodes+1=a,b.c@d_e' })],
  [
    'an instance profile by ARN, with a path',
    ec2Machine({ iamInstanceProfile: 'arn:aws:iam::123456789012:instance-profile/k8s/nodes' }),
  ],
  ['io1 at 50 IOPS per GiB', volume({ type: 'io1', sizeGiB: 40, iops: 2000 })],
  ['io2 at its most IOPS', volume({ type: 'io2', sizeGiB: 256, iops: 256000 })],
  ['io2 at its fewest IOPS', volume({ type: 'io2', sizeGiB: 8, iops: 100 })],
  [
    'gp3 at its most IOPS and throughput',
    volume({ type: 'gp3', sizeGiB: 40, iops: 16000, throughput: 1000 }),
  ],
  ['gp3 with a throughput its default IOPS carry', volume({ type: 'gp3', throughput: 750 })],
  ['gp2 with neither', volume({ type: 'gp2', sizeGiB: 100 })],
  [
    'an Argo CD AWS role on an EKS cluster, and label keys with a prefix',
    cluster({
      infrastructure: { awsEKS: eks },
      publish: { argoCD: { awsRoleARN: ROLE, labels: ['team', 'example.com/owner', 'tier_1.a-b'] } },
    }),
  ],
  [
    'an aws-ec2 pod block of one node’s /24',
    cluster({
      infrastructure: { awsEC2: ec2 },
      clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/24'] } },
    }),
  ],
];

beforeAll(async () => {
  await installCRDs(kc);
});

describe('the API server refuses what cannot work', () => {
  it.each(refused)('%s', async (what, obj, field, phrase) => {
    const named = { ...obj, metadata: { name: `bad-${refused.findIndex(([w]) => w === what)}` } };
    expectRefusal(await refusal(() => client.create(withNamespace(named))), field, phrase);
    expect(await exists(named)).toBe(false);
  });
});

describe('the API server accepts the edges that work', () => {
  it.each(accepted)('%s', async (what, obj) => {
    const named = { ...obj, metadata: { name: `ok-${accepted.findIndex(([w]) => w === what)}` } };
    const created = (await client.create(withNamespace(named))) as Obj;
    expect(created.spec).toMatchObject(obj.spec);
  });
});
