// Bad objects are refused by the real API server with a message that names the field, and nothing is stored.
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

beforeAll(async () => {
  await installCRDs(kc);
});

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

describe('the API server refuses bad objects', () => {
  it.each(invalidCreates)('%s', async (_what, obj, field, phrase) => {
    expectRefusal(await refusal(() => client.create(withNamespace(obj))), field, phrase);
    expect(await exists(obj)).toBe(false);
  });
});
