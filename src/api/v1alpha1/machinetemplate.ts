// MachineTemplate: a provider's machine spec. Immutable: a change is a new template.
import { z } from 'zod';
import { awsId } from './aws.js';
import { API_VERSION, objectMeta } from './meta.js';
import { exactlyOneProvider, providerSettings } from './provider-settings.js';
import { rootVolume } from './volume.js';

export const localMachine = z
  .object({
    worker: z.enum(['Simulated', 'Kubelet']).default('Simulated').meta({
      description:
        'What a worker machine is: Simulated, a Node kept Ready by heart-beats where nothing runs (cheap: for many clusters on one host); Kubelet, a real kubelet with its own containerd that runs pods (needs root, containerd and runc).',
    }),
    images: z
      .array(
        z
          .string()
          .max(4096)
          .regex(/^\/.*\.tar$/)
          .meta({ description: "The absolute path of an OCI image archive (.tar) on the operator's host." }),
      )
      .max(32)
      .default([])
      .meta({
        description:
          'OCI image archives loaded into each Kubelet worker before its kubelet starts: pods use them with imagePullPolicy Never or IfNotPresent, since nodes pull from no registry.',
      }),
    nodeHeartbeatSeconds: z
      .number()
      .int()
      .min(5)
      .max(300)
      .default(10)
      .meta({ description: "How often a Simulated worker Node's lease is renewed." }),
  })
  .meta({ description: 'A machine of the local provider.' });

export const inMemoryMachine = z
  .object({
    startupDelaySeconds: z.number().int().min(0).max(600).default(0).meta({
      description:
        'Seconds after its creation a simulated machine becomes Ready; for trying what waits on machines.',
    }),
  })
  .meta({ description: 'A simulated machine of the in-memory provider.' });

/** An EC2 instance type: family (m7i, m7i-flex, u-6tb1) and size (large, 2xlarge, metal). */
const INSTANCE_TYPE = '^[a-z][a-z0-9-]*\\.[a-z0-9]+$';

/** EC2 takes an instance profile by name or by ARN; a role ARN, the usual slip, is refused with the fix. */
const instanceProfile = z
  .string()
  .max(2048)
  .optional()
  .meta({
    description:
      'The IAM instance profile of the instance: its name, or its ARN (arn:aws:iam::<account>:instance-profile/<name>); not a role ARN.',
    'x-kubernetes-validations': [
      {
        rule: "!self.matches(r'^arn:aws[a-z-]*:iam::[0-9]{12}:role/')",
        message:
          'is an IAM role ARN, and EC2 takes an instance profile here: give the name or ARN of an instance profile that holds the role (aws iam list-instance-profiles-for-role --role-name <role>)',
      },
      {
        rule: "self.matches(r'^arn:aws[a-z-]*:iam::[0-9]{12}:role/') || self.matches(r'^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/[\\w+=,.@/-]{1,128}$') || self.matches(r'^[\\w+=,.@-]{1,128}$')",
        message:
          'must be an instance profile name (1 to 128 of letters, digits and +=,.@_-) or an instance profile ARN (arn:aws:iam::<account>:instance-profile/<name>)',
      },
    ],
  });

export const awsEC2Machine = z
  .object({
    instanceType: z
      .string()
      .min(1)
      .max(64)
      .regex(new RegExp(INSTANCE_TYPE))
      .meta({ description: 'The EC2 instance type, for example m7i.large.' }),
    ami: z
      .object({
        id: awsId('ami', 'AMI')
          .optional()
          .meta({ description: 'This exact image; when absent, an image is looked up for the version.' }),
      })
      .default({})
      .meta({ description: 'The machine image.' }),
    rootVolume,
    sshKeyName: z.string().max(255).optional().meta({ description: 'The EC2 key pair to log in with.' }),
    iamInstanceProfile: instanceProfile,
    subnetID: awsId('subnet', 'subnet')
      .optional()
      .meta({ description: 'Put machines in this subnet instead of spreading them over the private ones.' }),
  })
  .meta({ description: 'An EC2 instance, bootstrapped with kubeadm.' });

export const awsEKSMachine = z
  .object({
    instanceTypes: z
      .array(z.string().max(64))
      .min(1)
      .max(20)
      .default(['m7i.large'])
      .meta({
        description: 'Instance types of the managed node group, each family.size (m7i.large).',
        'x-kubernetes-validations': [
          {
            rule: `self.all(t, t.matches(r'${INSTANCE_TYPE}'))`,
            message:
              'every instance type is an EC2 family and size joined by a dot, in lower case, for example m7i.large, c6g.2xlarge or m7i-flex.large',
          },
        ],
      }),
    amiType: z
      .enum([
        'AL2023_x86_64_STANDARD',
        'AL2023_ARM_64_STANDARD',
        'BOTTLEROCKET_x86_64',
        'BOTTLEROCKET_ARM_64',
      ])
      .default('AL2023_x86_64_STANDARD')
      .meta({ description: 'The EKS AMI type.' }),
    diskSizeGiB: z.number().int().min(8).max(16384).default(40).meta({ description: 'Disk size in GiB.' }),
    capacityType: z
      .enum(['ON_DEMAND', 'SPOT'])
      .default('ON_DEMAND')
      .meta({ description: 'On-demand or spot capacity.' }),
  })
  .meta({ description: 'A node of an EKS managed node group.' });

export const machineTemplateSpec = z
  .object({
    template: z
      .object({
        spec: providerSettings({
          local: localMachine,
          awsEC2: awsEC2Machine,
          awsEKS: awsEKSMachine,
          inMemory: inMemoryMachine,
        }).meta({
          description: "The provider's machine settings: exactly one of local, awsEC2, awsEKS or inMemory.",
          'x-kubernetes-validations': [exactlyOneProvider],
        }),
      })
      .meta({ description: 'The template every machine made from this object copies.' }),
  })
  .meta({
    description:
      'The machine settings; immutable: to change machines, create a new template and point to it.',
    'x-kubernetes-validations': [
      {
        rule: 'self == oldSelf',
        message: 'MachineTemplate spec is immutable; create a new template instead',
      },
    ],
  });
export type MachineTemplateSpec = z.infer<typeof machineTemplateSpec>;

export const machineTemplate = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('MachineTemplate'),
  metadata: objectMeta,
  spec: machineTemplateSpec,
});
export type MachineTemplate = z.infer<typeof machineTemplate>;
