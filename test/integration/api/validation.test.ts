// Bad input is refused by the real API server with a message that names the field, and nothing is stored.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCRDs } from '../../support/crds.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import {
  cluster,
  controlPlane,
  deployment,
  ec2,
  eks,
  expectRefusal,
  inNamespace,
  machine,
  type Obj,
  refusal,
  template,
} from './objects.js';

const kc = testKubeConfig();
const client = KubernetesObjectApi.makeApiClient(kc);
const namespace = useTestNamespace('api-validation');
const { withNamespace, exists } = inNamespace(client, namespace);

// [what is wrong, the object, the field the message must name, a phrase of the message]
const invalidCreates: [string, Obj, string, string][] = [
  [
    'no provider',
    cluster({ infrastructure: {} }),
    'spec.infrastructure',
    'exactly one of local, awsEC2, awsEKS or inMemory',
  ],
  [
    'two providers at once',
    cluster({ infrastructure: { local: {}, awsEC2: ec2 } }),
    'spec.infrastructure',
    'exactly one',
  ],
  [
    'three providers at once',
    cluster({ infrastructure: { local: {}, awsEC2: ec2, awsEKS: eks } }),
    'spec.infrastructure',
    'exactly one',
  ],
  [
    'inMemory beside local',
    cluster({ infrastructure: { local: {}, inMemory: {} } }),
    'spec.infrastructure',
    'exactly one',
  ],
  [
    'a cluster name too long for AWS names',
    cluster(undefined, 'c'.repeat(41)),
    'metadata.name',
    'at most 40',
  ],
  ['a cluster name with a dot', cluster(undefined, 'my.cluster'), 'metadata.name', 'DNS label'],
  [
    'a made-up region',
    cluster({ infrastructure: { awsEC2: { region: 'Mars' } } }),
    'spec.infrastructure.awsEC2.region',
    'should match',
  ],
  [
    'a nodeDrainTimeout in days, which Go durations do not have',
    controlPlane({ nodeDrainTimeout: '1d' }, 'drain-days'),
    'spec.nodeDrainTimeout',
    'should match',
  ],
  [
    'a VPC CIDR with a /33 mask',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { vpc: { cidrBlock: '10.0.0.0/33' } } } } }),
    'spec.infrastructure.awsEC2.network.vpc.cidrBlock',
    'should match',
  ],
  [
    'an EKS role that is not an IAM role ARN',
    cluster({ infrastructure: { awsEKS: { ...eks, roleARN: 'admin' } } }),
    'spec.infrastructure.awsEKS.roleARN',
    'should match',
  ],
  [
    'paused as a string',
    cluster({ infrastructure: { local: {} }, paused: 'yes' }),
    'spec.paused',
    'must be of type boolean',
  ],
  [
    'a service CIDR that is not a CIDR',
    cluster({ infrastructure: { local: {} }, clusterNetwork: { services: { cidrBlocks: ['10.96.0.0'] } } }),
    'spec.clusterNetwork.services.cidrBlocks[0]',
    'should match',
  ],
  [
    'a cluster without a control plane',
    cluster({ infrastructure: { local: {} }, controlPlaneRef: undefined }),
    'spec.controlPlaneRef',
    'Required value: name the ControlPlane of this cluster',
  ],
  [
    'a VPC block with an octet over 255',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { vpc: { cidrBlock: '10.0.0.300/16' } } } } }),
    'spec.infrastructure.awsEC2.network.vpc.cidrBlock',
    'four numbers from 0 to 255',
  ],
  [
    'a VPC block with host bits set',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { vpc: { cidrBlock: '10.0.1.0/16' } } } } }),
    'spec.infrastructure.awsEC2.network.vpc.cidrBlock',
    'write the network address',
  ],
  [
    'a pod block with host bits set',
    cluster({ infrastructure: { local: {} }, clusterNetwork: { pods: { cidrBlocks: ['192.168.1.0/16'] } } }),
    'spec.clusterNetwork.pods.cidrBlocks[0]',
    'write the network address',
  ],
  [
    'a subnet block that is not a block',
    cluster({
      infrastructure: { awsEC2: { ...ec2, network: { subnets: [{ cidrBlock: '10.0.1.999/24' }] } } },
    }),
    'spec.infrastructure.awsEC2.network.subnets[0].cidrBlock',
    'must be an IPv4 CIDR block',
  ],
  [
    'a VPC block smaller than AWS takes',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { vpc: { cidrBlock: '10.0.0.0/29' } } } } }),
    'spec.infrastructure.awsEC2.network.vpc.cidrBlock',
    'from /16 (65,536 addresses) to /28',
  ],
  [
    'a VPC block larger than AWS takes',
    cluster({ infrastructure: { awsEKS: { ...eks, network: { vpc: { cidrBlock: '10.0.0.0/8' } } } } }),
    'spec.infrastructure.awsEKS.network.vpc.cidrBlock',
    'from /16 (65,536 addresses) to /28',
  ],
  [
    'a VPC too small to carve subnets from',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { vpc: { cidrBlock: '10.0.0.0/25' } } } } }),
    'spec.infrastructure.awsEC2.network.vpc.cidrBlock',
    'use a /24 or larger, or give every subnet a cidrBlock',
  ],
  [
    'a subnet outside its VPC',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          network: {
            vpc: { cidrBlock: '10.0.0.0/16' },
            subnets: [{ cidrBlock: '10.0.1.0/24' }, { cidrBlock: '10.1.0.0/24' }],
          },
        },
      },
    }),
    'spec.infrastructure.awsEC2.network.subnets',
    'must lie inside the VPC block 10.0.0.0/16',
  ],
  [
    'a subnet larger than its VPC',
    cluster({
      infrastructure: {
        awsEKS: {
          ...eks,
          network: { vpc: { cidrBlock: '10.0.0.0/24' }, subnets: [{ cidrBlock: '10.0.0.0/16' }] },
        },
      },
    }),
    'spec.infrastructure.awsEKS.network.subnets',
    'must lie inside the VPC block 10.0.0.0/24',
  ],
  [
    'pod and service blocks that overlap',
    cluster({ infrastructure: { local: {} }, clusterNetwork: { pods: { cidrBlocks: ['10.96.0.0/16'] } } }),
    'spec.clusterNetwork.services.cidrBlocks',
    'pod and service blocks overlap',
  ],
  [
    'a pod block inside the VPC',
    cluster({ infrastructure: { awsEC2: ec2 }, clusterNetwork: { pods: { cidrBlocks: ['10.0.128.0/17'] } } }),
    'spec.clusterNetwork.pods.cidrBlocks',
    'overlaps the VPC block 10.0.0.0/16',
  ],
  [
    'a service block around the VPC',
    cluster({
      infrastructure: { awsEC2: { ...ec2, network: { vpc: { cidrBlock: '172.16.5.0/24' } } } },
      clusterNetwork: { services: { cidrBlocks: ['172.16.0.0/12'] } },
    }),
    'spec.clusterNetwork.services.cidrBlocks',
    'overlaps the VPC block 172.16.5.0/24',
  ],
  [
    'an EKS service block inside the VPC',
    cluster({
      infrastructure: { awsEKS: eks },
      clusterNetwork: { services: { cidrBlocks: ['10.0.0.0/20'] } },
    }),
    'spec.clusterNetwork.services.cidrBlocks',
    'overlaps the VPC block 10.0.0.0/16',
  ],
  [
    'a second pod block, which would be ignored',
    cluster({
      infrastructure: { local: {} },
      clusterNetwork: { pods: { cidrBlocks: ['192.168.0.0/17', '192.168.128.0/17'] } },
    }),
    'spec.clusterNetwork.pods.cidrBlocks',
    'takes one pod block: a second block would be ignored',
  ],
  [
    'a second service block, which would be ignored',
    cluster({
      infrastructure: { inMemory: {} },
      clusterNetwork: { services: { cidrBlocks: ['10.96.0.0/16', '10.97.0.0/16'] } },
    }),
    'spec.clusterNetwork.services.cidrBlocks',
    'takes one service block',
  ],
  [
    'an EKS service block outside the private ranges',
    cluster({
      infrastructure: { awsEKS: eks },
      clusterNetwork: { services: { cidrBlocks: ['100.64.0.0/16'] } },
    }),
    'spec.clusterNetwork.services.cidrBlocks',
    'EKS takes a service block from /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16',
  ],
  [
    'an EKS service block wider than /12',
    cluster({
      infrastructure: { awsEKS: eks },
      clusterNetwork: { services: { cidrBlocks: ['10.64.0.0/11'] } },
    }),
    'spec.clusterNetwork.services.cidrBlocks',
    'EKS takes a service block from /12 to /24',
  ],
  [
    'an EKS service block narrower than /24',
    cluster({
      infrastructure: { awsEKS: eks },
      clusterNetwork: { services: { cidrBlocks: ['192.168.1.0/25'] } },
    }),
    'spec.clusterNetwork.services.cidrBlocks',
    'EKS takes a service block from /12 to /24',
  ],
  [
    'a zone of another region',
    cluster({
      infrastructure: { awsEC2: { ...ec2, network: { availabilityZones: ['eu-west-1a', 'us-east-1a'] } } },
    }),
    'spec.infrastructure.awsEC2.network.availabilityZones',
    'every zone must be one of the region eu-west-1',
  ],
  [
    'a zone of a region whose name only starts like the cluster’s',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { availabilityZones: ['eu-west-10a'] } } } }),
    'spec.infrastructure.awsEC2.network.availabilityZones',
    'every zone must be one of the region eu-west-1',
  ],
  [
    'the same zone twice',
    cluster({
      infrastructure: { awsEKS: { ...eks, network: { availabilityZones: ['eu-west-1a', 'eu-west-1a'] } } },
    }),
    'spec.infrastructure.awsEKS.network.availabilityZones',
    'list each zone once',
  ],
  [
    'a subnet in a zone of another region',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          network: { subnets: [{ cidrBlock: '10.0.0.0/24', availabilityZone: 'us-east-1a' }] },
        },
      },
    }),
    'spec.infrastructure.awsEC2.network.subnets',
    'every subnet availabilityZone must be one of the region eu-west-1',
  ],
  [
    'a tag key with the aws: prefix',
    cluster({ infrastructure: { awsEC2: { ...ec2, additionalTags: { 'aws:owner': 'me' } } } }),
    'spec.infrastructure.awsEC2.additionalTags',
    'reserved for AWS: choose another prefix',
  ],
  [
    'a tag key with the AWS: prefix in capitals',
    cluster({ infrastructure: { awsEKS: { ...eks, additionalTags: { 'AWS:owner': 'me' } } } }),
    'spec.infrastructure.awsEKS.additionalTags',
    'reserved for AWS',
  ],
  [
    'a tag key over 128 characters',
    cluster({ infrastructure: { awsEC2: { ...ec2, additionalTags: { ['k'.repeat(129)]: 'v' } } } }),
    'spec.infrastructure.awsEC2.additionalTags',
    'every key has at most 128 characters',
  ],
  [
    'more tags than AWS leaves room for',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          additionalTags: Object.fromEntries(Array.from({ length: 44 }, (_, i) => [`t${i}`, 'v'])),
        },
      },
    }),
    'spec.infrastructure.awsEC2.additionalTags',
    'at most 43',
  ],
  ['an even control plane', controlPlane({ replicas: 2 }), 'spec.replicas', 'odd number of replicas'],
  ['a control plane of nine', controlPlane({ replicas: 9 }), 'spec.replicas', 'odd number of replicas'],
  [
    'negative control-plane replicas',
    controlPlane({ replicas: -1 }),
    'spec.replicas',
    'greater than or equal to 0',
  ],
  ['replicas as a word', controlPlane({ replicas: 'three' }), 'spec.replicas', 'must be of type integer'],
  ['a version without the v', controlPlane({ version: '1.37.2' }), 'spec.version', 'should match'],
  ['a version without a patch', controlPlane({ version: 'v1.37' }), 'spec.version', 'should match'],
  ['no version', controlPlane({ version: undefined }), 'spec.version', 'Required value'],
  [
    'a machine template with no provider',
    template({}),
    'spec.template.spec',
    'exactly one of local, awsEC2, awsEKS or inMemory',
  ],
  [
    'a machine template for two providers',
    template({ local: {}, awsEC2: { instanceType: 'm7i.large' } }),
    'spec.template.spec',
    'exactly one',
  ],
  [
    'an in-memory machine template beside a local one',
    template({ local: {}, inMemory: {} }),
    'spec.template.spec',
    'exactly one',
  ],
  [
    'a negative startup delay',
    template({ inMemory: { startupDelaySeconds: -1 } }),
    'spec.template.spec.inMemory.startupDelaySeconds',
    'greater than or equal to 0',
  ],
  [
    'a startup delay over ten minutes',
    template({ inMemory: { startupDelaySeconds: 601 } }),
    'spec.template.spec.inMemory.startupDelaySeconds',
    'less than or equal to 600',
  ],
  [
    'a startup delay of half a second',
    template({ inMemory: { startupDelaySeconds: 0.5 } }),
    'spec.template.spec.inMemory.startupDelaySeconds',
    'must be of type integer',
  ],
  [
    'an instance type with spaces',
    template({ awsEC2: { instanceType: 'M7I LARGE' } }),
    'spec.template.spec.awsEC2.instanceType',
    'should match',
  ],
  [
    'a root volume of 4 GiB',
    template({ awsEC2: { instanceType: 'm7i.large', rootVolume: { sizeGiB: 4 } } }),
    'spec.template.spec.awsEC2.rootVolume.sizeGiB',
    'greater than or equal to 8',
  ],
  ['negative worker replicas', deployment({ replicas: -3 }), 'spec.replicas', 'greater than or equal to 0'],
  [
    'a cluster name with an underscore',
    deployment({ clusterName: 'Bad_Name' }),
    'spec.clusterName',
    'should match',
  ],
  [
    'no machine template',
    deployment({ machineTemplateRef: undefined }),
    'spec.machineTemplateRef',
    'Required value',
  ],
  [
    'a rollout that can make no progress',
    deployment({ strategy: { maxSurge: 0, maxUnavailable: 0 } }),
    'spec.strategy',
    'cannot both be 0',
  ],
  [
    'a pool name too long for a node group',
    deployment(undefined, 'w'.repeat(51)),
    'metadata.name',
    'at most 50',
  ],
  ['a machine role that does not exist', machine({ role: 'Master' }), 'spec.role', 'Unsupported value'],
  ['a machine version of latest', machine({ version: 'latest' }), 'spec.version', 'should match'],
];

// [what is wrong, the object as created, the change, the field the message must name, a phrase]
const invalidUpdates: [string, Obj, (o: Obj) => void, string, string][] = [
  [
    'a version downgrade',
    controlPlane({ version: 'v1.37.2' }),
    (o) => {
      o.spec.version = 'v1.36.3';
    },
    'spec.version',
    'may not go down',
  ],
  [
    'a two-minor jump',
    controlPlane({ version: 'v1.35.0' }),
    (o) => {
      o.spec.version = 'v1.37.0';
    },
    'spec.version',
    'more than one minor',
  ],
  [
    'a patch downgrade',
    controlPlane({ version: 'v1.37.2' }),
    (o) => {
      o.spec.version = 'v1.37.1';
    },
    'spec.version',
    'may not go down',
  ],
  [
    'a changed machine template',
    template({ awsEC2: { instanceType: 'm7i.large' } }),
    (o) => {
      o.spec.template.spec.awsEC2.instanceType = 'm7i.xlarge';
    },
    'spec',
    'MachineTemplate spec is immutable',
  ],
  [
    "a MachineDeployment's cluster",
    deployment(),
    (o) => {
      o.spec.clusterName = 'other';
    },
    'spec.clusterName',
    'clusterName is immutable',
  ],
  [
    'a worker pool version downgrade',
    deployment({ version: 'v1.37.2' }),
    (o) => {
      o.spec.version = 'v1.36.3';
    },
    'spec.version',
    'may not go down',
  ],
  [
    "a Machine's cluster",
    machine(),
    (o) => {
      o.spec.clusterName = 'other';
    },
    'spec.clusterName',
    'clusterName is immutable',
  ],
  [
    "a Machine's provider ID once set",
    machine({ providerID: 'local:///ns/demo/m1' }),
    (o) => {
      o.spec.providerID = 'local:///ns/demo/m2';
    },
    'spec.providerID',
    'cannot change once set',
  ],
  [
    'a switch of provider',
    cluster(),
    (o) => {
      o.spec.infrastructure = { awsEC2: ec2 };
    },
    'spec.infrastructure',
    'cannot change',
  ],
  [
    'a version that is not one',
    controlPlane({ version: 'v1.37.2' }),
    (o) => {
      o.spec.version = 'v1.37';
    },
    'spec.version',
    'should match',
  ],
  [
    'a switch from inMemory to local',
    cluster({ infrastructure: { inMemory: {} } }),
    (o) => {
      o.spec.infrastructure = { local: {} };
    },
    'spec.infrastructure',
    'cannot change',
  ],
  [
    "the VPC's block",
    cluster({ infrastructure: { awsEC2: ec2 } }),
    (o) => {
      o.spec.infrastructure.awsEC2.network.vpc.cidrBlock = '10.1.0.0/16';
    },
    'spec.infrastructure.awsEC2.network.vpc',
    'create a new cluster for another VPC',
  ],
  [
    'a VPC id given after creation',
    cluster({ infrastructure: { awsEKS: eks } }),
    (o) => {
      o.spec.infrastructure.awsEKS.network.vpc.id = 'vpc-0123456789abcdef0';
    },
    'spec.infrastructure.awsEKS.network.vpc',
    'cannot change once the cluster exists',
  ],
  [
    'another VPC id',
    cluster({ infrastructure: { awsEC2: { ...ec2, network: { vpc: { id: 'vpc-0123456789abcdef0' } } } } }),
    (o) => {
      o.spec.infrastructure.awsEC2.network.vpc.id = 'vpc-0123456789abcdef1';
    },
    'spec.infrastructure.awsEC2.network.vpc',
    'create a new cluster for another VPC',
  ],
  [
    'the EKS cluster role',
    cluster({ infrastructure: { awsEKS: eks } }),
    (o) => {
      o.spec.infrastructure.awsEKS.roleARN = 'arn:aws:iam::123456789012:role/other';
    },
    'spec.infrastructure.awsEKS.roleARN',
    'create a new cluster for another role',
  ],
  [
    'the EKS node role',
    cluster({ infrastructure: { awsEKS: eks } }),
    (o) => {
      o.spec.infrastructure.awsEKS.nodeRoleARN = 'arn:aws:iam::123456789012:role/other';
    },
    'spec.infrastructure.awsEKS.nodeRoleARN',
    'create a new cluster for another role',
  ],
  [
    'another list of zones',
    cluster({
      infrastructure: { awsEC2: { ...ec2, network: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } } },
    }),
    (o) => {
      o.spec.infrastructure.awsEC2.network.availabilityZones = ['eu-west-1a', 'eu-west-1c'];
    },
    'spec.infrastructure.awsEC2.network.availabilityZones',
    'create a new cluster to use other zones',
  ],
  [
    'a list of zones given after creation',
    cluster({ infrastructure: { awsEC2: ec2 } }),
    (o) => {
      o.spec.infrastructure.awsEC2.network.availabilityZones = ['eu-west-1a'];
    },
    'spec.infrastructure.awsEC2.network.availabilityZones',
    'cannot change once the cluster exists',
  ],
  [
    'a list of zones removed',
    cluster({
      infrastructure: { awsEKS: { ...eks, network: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } } },
    }),
    (o) => {
      delete o.spec.infrastructure.awsEKS.network.availabilityZones;
    },
    'spec.infrastructure.awsEKS.network.availabilityZones',
    'cannot change once the cluster exists',
  ],
  [
    'a self-managed control plane scaled to an even count',
    controlPlane({ replicas: 3 }),
    (o) => {
      o.spec.replicas = 4;
    },
    'spec.replicas',
    'odd number',
  ],
];

beforeAll(async () => {
  await installCRDs(kc);
});

describe('the API server refuses bad objects', () => {
  it.each(invalidCreates)('%s', async (_what, obj, field, phrase) => {
    expectRefusal(await refusal(() => client.create(withNamespace(obj))), field, phrase);
    expect(await exists(obj)).toBe(false);
  });

  it.each(invalidUpdates)('%s', async (what, obj, change, field, phrase) => {
    // A name of its own per case: each one creates a valid object first.
    const name = `upd-${invalidUpdates.findIndex(([w]) => w === what)}`;
    const created = (await client.create(withNamespace({ ...obj, metadata: { name } }))) as Obj;
    const changed = structuredClone(created);
    change(changed);
    expectRefusal(await refusal(() => client.replace(changed)), field, phrase);
    const stored = (await client.read(created as never)) as Obj;
    expect(stored.spec).toEqual(created.spec);
  });
});

// Network ranges at the edges of the rules: each must be stored as given.
const validNetworks: [string, Obj][] = [
  [
    'the smallest VPC AWS takes',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          network: { vpc: { cidrBlock: '10.0.0.0/28' }, subnets: [{ cidrBlock: '10.0.0.0/28' }] },
        },
      },
    }),
  ],
  [
    'the smallest VPC the provider carves subnets from',
    cluster({ infrastructure: { awsEKS: { ...eks, network: { vpc: { cidrBlock: '10.0.0.0/24' } } } } }),
  ],
  [
    'the largest VPC, and subnets at its edges',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          network: {
            vpc: { cidrBlock: '172.16.0.0/16' },
            subnets: [
              { cidrBlock: '172.16.0.0/24' },
              { cidrBlock: '172.16.255.0/24' },
              { availabilityZone: 'eu-west-1a' },
            ],
          },
        },
      },
    }),
  ],
  [
    'a subnet as large as its VPC',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          network: { vpc: { cidrBlock: '10.0.0.0/20' }, subnets: [{ cidrBlock: '10.0.0.0/20' }] },
        },
      },
    }),
  ],
  [
    // The cidrBlock of a VPC brought by id is ignored, so the subnets are not held to it.
    'a VPC of your own with its own subnets',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          network: {
            vpc: { id: 'vpc-0123456789abcdef0' },
            subnets: [{ id: 'subnet-01234567', cidrBlock: '172.31.0.0/20' }],
          },
        },
      },
    }),
  ],
  [
    'pod and service blocks side by side',
    cluster({
      infrastructure: { local: {} },
      clusterNetwork: { pods: { cidrBlocks: ['10.96.0.0/12'] }, services: { cidrBlocks: ['10.112.0.0/12'] } },
    }),
  ],
  [
    // EKS pods take VPC addresses; the pod block is not held to the VPC on EKS.
    'EKS service blocks at /12 and with every private range',
    cluster({
      infrastructure: { awsEKS: { ...eks, network: { vpc: { cidrBlock: '192.168.0.0/16' } } } },
      clusterNetwork: {
        pods: { cidrBlocks: ['192.168.0.0/16'] },
        services: { cidrBlocks: ['172.16.0.0/12'] },
      },
    }),
  ],
  [
    'six zones of the region, one of them a Local Zone',
    cluster({
      infrastructure: {
        awsEKS: {
          ...eks,
          region: 'us-west-2',
          network: {
            availabilityZones: [
              'us-west-2a',
              'us-west-2b',
              'us-west-2c',
              'us-west-2d',
              'us-west-2-lax-1a',
              'us-west-2-lax-1b',
            ],
          },
        },
      },
    }),
  ],
  [
    'tags at the limits: 43 of them, a key of 128 characters, aws inside a key',
    cluster({
      infrastructure: {
        awsEC2: {
          ...ec2,
          additionalTags: {
            ...Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`t${i}`, 'v'])),
            ['k'.repeat(128)]: 'v'.repeat(256),
            'team:aws': '',
          },
        },
      },
    }),
  ],
  [
    // The pod block is not used on EKS, so a service block may sit where the default pod block is.
    'an EKS service block at /24, inside the unused default pod block',
    cluster({
      infrastructure: { awsEKS: eks },
      clusterNetwork: { services: { cidrBlocks: ['192.168.7.0/24'] } },
    }),
  ],
  [
    'a single-address pod block',
    cluster({
      infrastructure: { inMemory: {} },
      clusterNetwork: { pods: { cidrBlocks: ['192.168.0.1/32'] } },
    }),
  ],
];

describe('the API server accepts what the rules allow', () => {
  it.each(validNetworks)('%s', async (what, obj) => {
    const name = `net-${validNetworks.findIndex(([w]) => w === what)}`;
    const created = (await client.create(withNamespace({ ...obj, metadata: { name } }))) as Obj;
    expect(created.spec.infrastructure).toMatchObject(obj.spec.infrastructure);
    if (obj.spec.clusterNetwork) expect(created.spec.clusterNetwork).toMatchObject(obj.spec.clusterNetwork);
  });

  it('one minor up and a patch up', async () => {
    const created = (await client.create(withNamespace(controlPlane({ version: 'v1.36.3' }, 'up')))) as Obj;
    created.spec.version = 'v1.37.0';
    const minorUp = (await client.replace(created)) as Obj;
    minorUp.spec.version = 'v1.37.2';
    const patchUp = (await client.replace(minorUp)) as Obj;
    expect(patchUp.spec.version).toBe('v1.37.2');
  });

  it('changes an AWS cluster may take: endpoint access, tags and pausing', async () => {
    const obj = cluster(
      { infrastructure: { awsEKS: { ...eks, network: { availabilityZones: ['eu-west-1a'] } } } },
      'eks-edit',
    );
    const created = (await client.create(withNamespace(obj))) as Obj;
    created.spec.infrastructure.awsEKS.endpointAccess.public = false;
    created.spec.infrastructure.awsEKS.additionalTags = { team: 'platform' };
    created.spec.paused = true;
    const changed = (await client.replace(created)) as Obj;
    expect(changed.spec.infrastructure.awsEKS.endpointAccess.public).toBe(false);
    expect(changed.spec.infrastructure.awsEKS.additionalTags).toEqual({ team: 'platform' });
    expect(changed.spec.paused).toBe(true);
  });

  it('a nodeDrainTimeout written as Cluster API writes it', async () => {
    const created = (await client.create(
      withNamespace(controlPlane({ nodeDrainTimeout: '1h30m' }, 'drain-ok')),
    )) as Obj;
    expect(created.spec.nodeDrainTimeout).toBe('1h30m');
  });

  it('a managed control plane with any replica count, and the schema defaults', async () => {
    const obj = controlPlane({ machineTemplateRef: undefined, replicas: undefined }, 'managed');
    const created = (await client.create(withNamespace(obj))) as Obj;
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.rolloutStrategy).toEqual({ maxSurge: 1 });
  });

  it('fills defaults into a minimal cluster', async () => {
    const created = (await client.create(withNamespace(cluster(undefined, 'defaults')))) as Obj;
    expect(created.spec.paused).toBe(false);
    expect(created.spec.clusterNetwork).toEqual({
      pods: { cidrBlocks: ['192.168.0.0/16'] },
      services: { cidrBlocks: ['10.96.0.0/12'] },
      serviceDomain: 'cluster.local',
    });
    expect(created.spec.infrastructure.local).toEqual({ bindAddress: '127.0.0.1' });
  });

  it('an in-memory cluster selected by an empty object, and its machine delay defaulted', async () => {
    const created = (await client.create(
      withNamespace(cluster({ infrastructure: { inMemory: {} } }, 'sim')),
    )) as Obj;
    expect(created.spec.infrastructure).toEqual({ inMemory: {} });
    const tmpl = (await client.create(withNamespace(template({ inMemory: {} }, 'sim-mt')))) as Obj;
    expect(tmpl.spec.template.spec.inMemory).toEqual({ startupDelaySeconds: 0 });
    const bounds = (await client.create(
      withNamespace(template({ inMemory: { startupDelaySeconds: 600 } }, 'sim-slow')),
    )) as Obj;
    expect(bounds.spec.template.spec.inMemory.startupDelaySeconds).toBe(600);
  });
});
