// Network ranges: the IPv4 blocks of a cluster and of its AWS network, and the CEL rules that refuse
// ranges that cannot work. Every rule that reads a block first checks isCIDR(), so a block that is
// not one gets its own message and never "invalid CIDR" evaluation noise from another rule.
import { z } from 'zod';
import { awsId } from './aws.js';
import { DNS_SUBDOMAIN } from './meta.js';

type Rule = { rule: string; message?: string; messageExpression?: string; fieldPath?: string };

/** The rules of every IPv4 block: a real CIDR, written as its network address. */
const cidrRules: Rule[] = [
  {
    rule: 'isCIDR(self)',
    message:
      'must be an IPv4 CIDR block: four numbers from 0 to 255 and a prefix length from 0 to 32, for example 10.0.0.0/16',
  },
  {
    rule: '!isCIDR(self) || cidr(self).masked() == cidr(self)',
    // The masked block itself cannot be in the message: the cost estimate of string(cidr) is unbounded.
    message:
      'has bits set after the prefix length: write the network address of the block, whose host bits are zero (10.0.0.0/16, not 10.0.1.0/16)',
  },
];

const cidrString = z
  .string()
  .max(43)
  .regex(/^([0-9]{1,3}\.){3}[0-9]{1,3}\/([0-9]|[12][0-9]|3[0-2])$/);

export const cidrBlock = cidrString.meta({
  description: 'An IPv4 CIDR block, for example 10.0.0.0/16.',
  'x-kubernetes-validations': cidrRules,
});

const vpcCidrBlock = cidrString.meta({
  description: 'CIDR block of the VPC to create, from /16 to /28; ignored when id is set.',
  'x-kubernetes-validations': [
    ...cidrRules,
    {
      rule: '!isCIDR(self) || (cidr(self).prefixLength() >= 16 && cidr(self).prefixLength() <= 28)',
      message:
        'AWS takes VPC blocks from /16 (65,536 addresses) to /28 (16 addresses), for example 10.0.0.0/16',
    },
  ],
});

/** CEL: whether two blocks (string expressions) share an address; false when either is not a block. */
const overlaps = (a: string, b: string) =>
  `(isCIDR(${a}) && isCIDR(${b}) && (cidr(${a}).containsCIDR(${b}) || cidr(${b}).containsCIDR(${a})))`;

/** CEL: whether the block `inner` lies inside the block `outer` (strings); true when either is not a block. */
const inside = (inner: string, outer: string) =>
  `(!isCIDR(${inner}) || !isCIDR(${outer}) || cidr(${outer}).containsCIDR(${inner}))`;

export const awsNetwork = z
  .object({
    vpc: z
      .object({
        id: awsId('vpc', 'VPC')
          .optional()
          .meta({ description: 'Use this existing VPC (bring your own); it is never modified or deleted.' }),
        cidrBlock: vpcCidrBlock.default('10.0.0.0/16'),
      })
      .default({ cidrBlock: '10.0.0.0/16' })
      .meta({
        description: 'The VPC the cluster lives in; it cannot change once the cluster exists.',
        'x-kubernetes-validations': [
          {
            rule: 'self == oldSelf',
            message:
              'the VPC (id and cidrBlock) cannot change once the cluster exists: what the cluster made lives in it; create a new cluster for another VPC',
          },
        ],
      }),
    availabilityZones: z.array(z.string().min(1).max(32)).max(6).optional().meta({
      description:
        'Availability zones to spread subnets over; when absent, the first zones of the region are used. It cannot change once the cluster exists.',
    }),
    availabilityZoneCount: z
      .number()
      .int()
      .min(1)
      .max(6)
      .default(3)
      .meta({ description: 'How many availability zones to use when availabilityZones is not given.' }),
    subnets: z
      .array(
        z.object({
          id: awsId('subnet', 'subnet')
            .optional()
            .meta({ description: 'Use this existing subnet; it is never modified or deleted.' }),
          cidrBlock: cidrBlock.optional(),
          availabilityZone: z.string().max(32).optional().meta({ description: "The subnet's zone." }),
          public: z
            .boolean()
            .default(false)
            .meta({ description: 'Whether the subnet routes to the internet gateway.' }),
        }),
      )
      .max(24)
      .optional()
      .meta({ description: 'Subnets to use or create; when absent, one public and one private per zone.' }),
  })
  .meta({
    description: 'The network on AWS: created and owned by the cluster unless IDs are given.',
    'x-kubernetes-validations': [
      {
        // Transition rules of optional fields run only when both sides have them: this one sees the list come and go.
        rule: 'has(self.availabilityZones) == has(oldSelf.availabilityZones) && (!has(self.availabilityZones) || self.availabilityZones == oldSelf.availabilityZones)',
        message:
          'the availability zones cannot change once the cluster exists: its subnets are already in them; create a new cluster to use other zones',
        fieldPath: '.availabilityZones',
      },
      {
        // A VPC of our own only: the cidrBlock of a VPC brought by id is ignored.
        rule: `!has(self.subnets) || !has(self.vpc) || has(self.vpc.id) || self.subnets.all(s, !has(s.cidrBlock) || ${inside('s.cidrBlock', 'self.vpc.cidrBlock')})`,
        messageExpression:
          "'every subnet cidrBlock must lie inside the VPC block ' + self.vpc.cidrBlock + ': choose subnet blocks inside it, or widen vpc.cidrBlock'",
        fieldPath: '.subnets',
      },
      {
        // The provider carves a subnet without a block out of the VPC as one sixteenth of it, and AWS
        // takes no subnet smaller than /28 (providers/aws-ec2/services/vpc.ts).
        rule: `!has(self.vpc) || has(self.vpc.id) || !isCIDR(self.vpc.cidrBlock) || cidr(self.vpc.cidrBlock).prefixLength() <= 24 || (has(self.subnets) && size(self.subnets) > 0 && self.subnets.all(s, has(s.id) || has(s.cidrBlock)))`,
        message:
          'a VPC smaller than /24 leaves no room for the subnets carved out of it (each one sixteenth of the VPC, at least /28): use a /24 or larger, or give every subnet a cidrBlock',
        fieldPath: '.vpc.cidrBlock',
      },
    ],
  });

/** The pod or the service network: one block (a list, for a later dual-stack cluster), defaulted. */
const network = (what: 'pod' | 'service', defaultBlock: string, description: string) =>
  z
    .object({
      cidrBlocks: z
        .array(cidrBlock)
        .min(1)
        .max(2)
        .meta({
          description: `The ${what} CIDR block (one; a list for a later dual-stack cluster).`,
          'x-kubernetes-validations': [
            {
              rule: 'self.size() == 1',
              message: `takes one ${what} block: a second block would be ignored, dual-stack ${what} networks are not supported`,
            },
          ],
        }),
    })
    .default({ cidrBlocks: [defaultBlock] })
    .meta({ description });

export const clusterNetwork = z
  .object({
    pods: network('pod', '192.168.0.0/16', 'The pod network.'),
    services: network(
      'service',
      '10.96.0.0/12',
      "The service network (the API server's --service-cluster-ip-range).",
    ),
    serviceDomain: z
      .string()
      .max(253)
      .default('cluster.local')
      .meta({
        description: 'The DNS domain of services: a DNS subdomain such as cluster.local.',
        'x-kubernetes-validations': [
          {
            rule: `self.matches(r'${DNS_SUBDOMAIN}') && self.split('.').all(l, l.size() <= 63)`,
            message:
              'must be a DNS subdomain: labels of lower-case letters, digits and hyphens (63 at most, neither starting nor ending with a hyphen) joined by dots, for example cluster.local',
          },
        ],
      }),
  })
  .meta({
    description: "The cluster's own networks; immutable once the cluster exists.",
    'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'clusterNetwork is immutable' }],
  });

/** The service blocks EKS takes (serviceIpv4Cidr): inside a private range, from /12 to /24. */
const eksServiceBlock = (block: string) =>
  `(!isCIDR(${block}) || ((cidr('10.0.0.0/8').containsCIDR(${block}) || cidr('172.16.0.0/12').containsCIDR(${block}) || cidr('192.168.0.0/16').containsCIDR(${block})) && cidr(${block}).prefixLength() >= 12 && cidr(${block}).prefixLength() <= 24))`;

/** The prefix of the pod block each node of a kubeadm cluster gets: nodes fit 2^(24 - prefix) times. */
export const NODE_POD_PREFIX = 24;

/** CEL on the Cluster's spec, for a provider `p` (awsEC2 or awsEKS): its own VPC's block, when it has one. */
const ownVPC = (p: string) =>
  `has(self.infrastructure.${p}) && has(self.infrastructure.${p}.network) && has(self.infrastructure.${p}.network.vpc) && !has(self.infrastructure.${p}.network.vpc.id)`;
const vpcBlock = (p: string) => `self.infrastructure.${p}.network.vpc.cidrBlock`;
const hasNetwork =
  'has(self.clusterNetwork) && has(self.clusterNetwork.pods) && has(self.clusterNetwork.services)';

/** The rules on the Cluster's spec that relate the cluster's networks to its provider's. */
export const clusterNetworkRules: Rule[] = [
  {
    // EKS takes no pod block (pods get VPC addresses), so there the pod block cannot clash.
    rule: `!(${hasNetwork}) || has(self.infrastructure.awsEKS) || self.clusterNetwork.pods.cidrBlocks.all(p, self.clusterNetwork.services.cidrBlocks.all(s, !${overlaps('p', 's')}))`,
    message:
      'the pod and service blocks overlap: choose blocks that share no address, for example pods 192.168.0.0/16 and services 10.96.0.0/12',
    fieldPath: '.clusterNetwork.services.cidrBlocks',
  },
  {
    // EKS pods take VPC addresses (the VPC CNI), so only EC2 pod blocks must stay out of the VPC.
    rule: `!(${hasNetwork}) || !(${ownVPC('awsEC2')}) || self.clusterNetwork.pods.cidrBlocks.all(b, !${overlaps('b', vpcBlock('awsEC2'))})`,
    messageExpression: `'overlaps the VPC block ' + ${vpcBlock('awsEC2')} + ': pod addresses must not be VPC addresses, choose a block outside it'`,
    fieldPath: '.clusterNetwork.pods.cidrBlocks',
  },
  ...['awsEC2', 'awsEKS'].map((p) => ({
    rule: `!(${hasNetwork}) || !(${ownVPC(p)}) || self.clusterNetwork.services.cidrBlocks.all(b, !${overlaps('b', vpcBlock(p))})`,
    messageExpression: `'overlaps the VPC block ' + ${vpcBlock(p)} + ': service addresses must not be VPC addresses, choose a block outside it'`,
    fieldPath: '.clusterNetwork.services.cidrBlocks',
  })),
  {
    // kubeadm's controller manager gives each node a /24 of the pod block (--node-cidr-mask-size).
    rule: `!(${hasNetwork}) || !has(self.infrastructure.awsEC2) || self.clusterNetwork.pods.cidrBlocks.all(b, !isCIDR(b) || cidr(b).prefixLength() <= ${NODE_POD_PREFIX})`,
    message: `each aws-ec2 node takes a /${NODE_POD_PREFIX} of the pod block: use a /${NODE_POD_PREFIX} (one node) or larger, for example 192.168.0.0/16 (256 nodes)`,
    fieldPath: '.clusterNetwork.pods.cidrBlocks',
  },
  {
    rule: `!(${hasNetwork}) || !has(self.infrastructure.awsEKS) || self.clusterNetwork.services.cidrBlocks.all(b, ${eksServiceBlock('b')})`,
    message:
      'EKS takes a service block from /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, for example 10.100.0.0/16',
    fieldPath: '.clusterNetwork.services.cidrBlocks',
  },
];

/** CEL: whether the zone `z` is one of the region's: `eu-west-1a`, or a Local Zone `us-west-2-lax-1a`. */
const ofRegion = (z: string) =>
  `(${z}.startsWith(self.region) && ${z}.substring(self.region.size()).matches('^(-[a-z0-9-]+)?[a-z]$'))`;

/** The rules on an AWS provider's settings (region and network side by side): zones of its region, each once. */
export const zoneRules: Rule[] = [
  {
    rule: `!has(self.network) || !has(self.network.availabilityZones) || self.network.availabilityZones.all(z, ${ofRegion('z')})`,
    messageExpression:
      "'every zone must be one of the region ' + self.region + ', named after it (' + self.region + 'a, ' + self.region + 'b, ...)'",
    fieldPath: '.network.availabilityZones',
  },
  {
    rule: '!has(self.network) || !has(self.network.availabilityZones) || self.network.availabilityZones.all(z, self.network.availabilityZones.exists_one(x, x == z))',
    message: 'names a zone twice: list each zone once',
    fieldPath: '.network.availabilityZones',
  },
  {
    rule: `!has(self.network) || !has(self.network.subnets) || self.network.subnets.all(s, !has(s.availabilityZone) || ${ofRegion('s.availabilityZone')})`,
    messageExpression:
      "'every subnet availabilityZone must be one of the region ' + self.region + ', named after it (' + self.region + 'a, ...)'",
    fieldPath: '.network.subnets',
  },
];
