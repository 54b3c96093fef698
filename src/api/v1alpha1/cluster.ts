// Cluster: the whole cluster; owns its ControlPlane, MachineDeployments and Machines.
import { z } from 'zod';
import {
  conditions,
  kindWithStatus,
  localObjectReference,
  observedGeneration,
  terminalFailure,
} from './meta.js';
import { awsNetwork, clusterNetwork, clusterNetworkRules, zoneRules } from './network.js';
import { exactlyOneProvider, providerSettings } from './provider-settings.js';
import { publish } from './publish.js';

const awsRegion = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[a-z]{2}(-[a-z]+)+-[0-9]+$/)
  .meta({ description: 'The AWS region, for example eu-west-1.' });

const credentialsRef = localObjectReference.meta({
  description:
    "A Secret in the Cluster's namespace with keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN. When absent, the operator's default AWS credential chain is used.",
});

/** AWS takes 50 tags on a resource, and the operator puts up to 7 of its own (providers/aws-common/tags.ts). */
const MAX_ADDITIONAL_TAGS = 43;

const additionalTags = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .optional()
  .meta({
    description: `Extra tags put on every AWS resource the cluster creates: at most ${MAX_ADDITIONAL_TAGS}, keys of 1 to 128 characters not starting with aws:, values of at most 256.`,
    maxProperties: MAX_ADDITIONAL_TAGS,
    'x-kubernetes-validations': [
      {
        rule: "self.all(k, !k.lowerAscii().startsWith('aws:'))",
        message: 'tag keys starting with aws: are reserved for AWS: choose another prefix, for example team:',
      },
    ],
  });

export const localInfrastructure = z
  .object({
    bindAddress: z
      .literal('127.0.0.1')
      .default('127.0.0.1')
      .meta({ description: 'The address every process of the cluster listens on; loopback only.' }),
  })
  .meta({
    description:
      'The embedded local provider: control-plane machines are real etcd and kube-apiserver processes on this host; workers are registered Nodes.',
  });

export const inMemoryInfrastructure = z.object({}).meta({
  description:
    'The in-memory provider: infrastructure and machines are simulated inside the operator, nothing is created outside the management cluster. For scale tests and trying the API; never for workloads.',
});

const iamRoleARN = z
  .string()
  .max(2048)
  .regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/);

/** The transition rule of an IAM role that AWS fixes at creation. */
const fixedRole = (why: string) => ({
  rule: 'self == oldSelf',
  message: `cannot change once the cluster exists (${why}); create a new cluster for another role`,
});

/** Where an AWS cluster lives and with which credentials: the same for EC2 and EKS. */
const awsPlacement = {
  region: awsRegion,
  credentialsRef: credentialsRef.optional(),
  network: awsNetwork.default({
    vpc: { cidrBlock: '10.0.0.0/16' },
    availabilityZoneCount: 3,
  }),
};

export const awsEC2Infrastructure = z
  .object({
    ...awsPlacement,
    sshKeyName: z
      .string()
      .max(255)
      .optional()
      .meta({ description: 'Default EC2 key pair for machines, unless the MachineTemplate names one.' }),
    additionalTags,
  })
  .meta({
    description: 'Self-managed Kubernetes on EC2 instances, bootstrapped with kubeadm.',
    'x-kubernetes-validations': zoneRules,
  });

export const awsEKSInfrastructure = z
  .object({
    ...awsPlacement,
    roleARN: iamRoleARN.meta({
      description: 'The IAM role the EKS control plane assumes; it cannot change once the cluster exists.',
      'x-kubernetes-validations': [fixedRole('EKS keeps the role a cluster was created with')],
    }),
    nodeRoleARN: iamRoleARN.meta({
      description: 'The IAM role of the managed node groups; it cannot change once the cluster exists.',
      'x-kubernetes-validations': [fixedRole('EKS keeps the role a node group was created with')],
    }),
    endpointAccess: z
      .object({
        public: z.boolean().default(true).meta({ description: 'Whether the API endpoint is public.' }),
        private: z.boolean().default(true).meta({ description: 'Whether the API endpoint is in the VPC.' }),
      })
      .default({ public: true, private: true })
      .meta({ description: 'Where the EKS API endpoint can be reached from.' }),
    additionalTags,
  })
  .meta({
    description: 'A managed EKS control plane with managed node groups.',
    'x-kubernetes-validations': zoneRules,
  });

export const infrastructure = providerSettings({
  local: localInfrastructure,
  awsEC2: awsEC2Infrastructure,
  awsEKS: awsEKSInfrastructure,
  inMemory: inMemoryInfrastructure,
}).meta({
  description: 'Where the cluster runs: exactly one of local, awsEC2, awsEKS or inMemory.',
  'x-kubernetes-validations': [
    exactlyOneProvider,
    {
      rule: 'has(self.local) == has(oldSelf.local) && has(self.awsEC2) == has(oldSelf.awsEC2) && has(self.awsEKS) == has(oldSelf.awsEKS) && has(self.inMemory) == has(oldSelf.inMemory)',
      message: 'the infrastructure provider of a cluster cannot change',
    },
    {
      rule: '!has(self.awsEC2) || !has(oldSelf.awsEC2) || self.awsEC2.region == oldSelf.awsEC2.region',
      message: 'the region cannot change',
      fieldPath: '.awsEC2.region',
    },
    {
      rule: '!has(self.awsEKS) || !has(oldSelf.awsEKS) || self.awsEKS.region == oldSelf.awsEKS.region',
      message: 'the region cannot change',
      fieldPath: '.awsEKS.region',
    },
  ],
});

export const clusterSpec = z
  .object({
    infrastructure,
    clusterNetwork: clusterNetwork.default({
      pods: { cidrBlocks: ['192.168.0.0/16'] },
      services: { cidrBlocks: ['10.96.0.0/12'] },
      serviceDomain: 'cluster.local',
    }),
    controlPlaneRef: localObjectReference
      .optional()
      .meta({ description: 'The ControlPlane of this cluster, in the same namespace; required.' }),
    paused: z
      .boolean()
      .default(false)
      .meta({ description: 'Stops reconciliation of the cluster and everything it owns.' }),
    publish: publish.optional(),
  })
  .meta({
    description: 'The desired state of the cluster.',
    'x-kubernetes-validations': [
      {
        // Optional in the schema only so that objects stored before this rule still read; a new one needs it.
        rule: 'has(self.controlPlaneRef)',
        message:
          'name the ControlPlane of this cluster, in the same namespace (controlPlaneRef: {name: <name>-control-plane})',
        fieldPath: '.controlPlaneRef',
        reason: 'FieldValueRequired',
      },
      ...clusterNetworkRules,
      {
        rule: '!has(self.publish) || !has(self.publish.argoCD) || !has(self.publish.argoCD.awsRoleARN) || has(self.infrastructure.awsEKS)',
        message:
          'awsRoleARN is for EKS clusters only (Argo CD reaches them with AWS credentials); the other clusters are reached with the bearer token the operator writes: remove awsRoleARN',
        fieldPath: '.publish.argoCD.awsRoleARN',
      },
    ],
  });
export type ClusterSpec = z.infer<typeof clusterSpec>;

export const clusterPhase = z
  .enum(['Pending', 'Provisioning', 'Ready', 'Upgrading', 'Scaling', 'Deleting', 'Failed', 'Paused'])
  .meta({ description: 'A one-word summary of the lifecycle state, for people and printer columns.' });
export type ClusterPhase = z.infer<typeof clusterPhase>;

export const lifecycleSnapshot = z
  .object({
    schemaVersion: z
      .number()
      .int()
      .min(1)
      .meta({ description: 'The version of the lifecycle machine that wrote this snapshot.' }),
    state: z.string().max(256).meta({
      description: 'The state of the lifecycle machine, as a dotted path (upgrading.controlPlane).',
    }),
    context: z.record(z.string(), z.unknown()).optional().meta({
      description: 'The small context of the lifecycle machine.',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
  })
  .meta({ description: "The lifecycle machine's snapshot; the operator resumes from it after a restart." });
export type LifecycleSnapshot = z.infer<typeof lifecycleSnapshot>;

export const apiEndpoint = z
  .object({
    host: z.string().max(512).meta({ description: 'The host name or IP address of the API server.' }),
    port: z.number().int().min(1).max(65535).meta({ description: 'The port of the API server.' }),
  })
  .meta({ description: "Where the cluster's API server is reached." });

export const clusterStatus = z
  .object({
    phase: clusterPhase.optional(),
    conditions: conditions.optional(),
    controlPlaneEndpoint: apiEndpoint.optional(),
    lifecycle: lifecycleSnapshot.optional(),
    version: z
      .string()
      .max(32)
      .optional()
      .meta({ description: 'The Kubernetes version every part of the cluster runs, once they agree.' }),
    observedGeneration: observedGeneration.optional(),
    ...terminalFailure,
  })
  .meta({ description: 'The observed state of the cluster, written by the operator only.' });
export type ClusterStatus = z.infer<typeof clusterStatus>;

export const cluster = kindWithStatus('Cluster', clusterSpec, clusterStatus);
export type Cluster = z.infer<typeof cluster>;
