// What the rules allow is stored as given: network ranges at the edges of the rules, the changes a
// cluster may take, and the schema defaults.
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCRDs } from '../../support/crds.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { cluster, controlPlane, ec2, eks, inNamespace, type Obj, template } from './objects.js';

const kc = testKubeConfig();
const client = KubernetesObjectApi.makeApiClient(kc);
const namespace = useTestNamespace('api-validation-accepted');
const { withNamespace } = inNamespace(client, namespace);

beforeAll(async () => {
  await installCRDs(kc);
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
