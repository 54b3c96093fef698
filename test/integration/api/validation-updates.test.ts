// Changes that cannot work (fields fixed once the infrastructure exists, version jumps, a provider
// switch) are refused by the real API server with the field named, and the stored spec stays as it was.
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
const namespace = useTestNamespace('api-validation-updates');
const { withNamespace } = inNamespace(client, namespace);

beforeAll(async () => {
  await installCRDs(kc);
});

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

describe('the API server refuses changes that cannot work', () => {
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
