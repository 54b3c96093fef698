// The root EBS volume of an EC2 machine, with the IOPS and throughput bounds of EC2's RunInstances
// (EbsBlockDevice): io1 and io2 need their IOPS, gp3 may take IOPS and throughput, gp2 takes neither.
import { z } from 'zod';

/** AWS's IOPS bounds per volume type, and the most IOPS per GiB of size. */
export const IOPS_BOUNDS = {
  gp3: { min: 3000, max: 16000, perGiB: 500 },
  io1: { min: 100, max: 64000, perGiB: 50 },
  io2: { min: 100, max: 256000, perGiB: 1000 },
} as const;
/** gp3 throughput in MiB/s. */
export const THROUGHPUT_BOUNDS = { min: 125, max: 1000 } as const;

const fmt = (n: number) => n.toLocaleString('en-US');

/** One rule per type with IOPS: in its bounds and at most perGiB per GiB of the volume. */
const iopsRules = Object.entries(IOPS_BOUNDS).flatMap(([type, b]) => [
  {
    rule: `self.type != '${type}' || !has(self.iops) || (self.iops >= ${b.min} && self.iops <= ${b.max})`,
    message: `${type} takes from ${fmt(b.min)} to ${fmt(b.max)} IOPS`,
    fieldPath: '.iops',
  },
  {
    rule: `self.type != '${type}' || !has(self.iops) || self.iops <= self.sizeGiB * ${b.perGiB}`,
    message: `${type} takes at most ${b.perGiB} IOPS per GiB: lower iops, or raise sizeGiB to at least iops / ${b.perGiB}`,
    fieldPath: '.iops',
  },
]);

export const rootVolume = z
  .object({
    sizeGiB: z.number().int().min(8).max(16384).default(40).meta({ description: 'Size in GiB.' }),
    type: z.enum(['gp2', 'gp3', 'io1', 'io2']).default('gp3').meta({ description: 'EBS volume type.' }),
    iops: z
      .number()
      .int()
      .min(100)
      .max(256000)
      .optional()
      .meta({
        description: `Provisioned IOPS: required for io1 (${fmt(IOPS_BOUNDS.io1.min)} to ${fmt(IOPS_BOUNDS.io1.max)}) and io2 (${fmt(IOPS_BOUNDS.io2.min)} to ${fmt(IOPS_BOUNDS.io2.max)}); optional for gp3 (${fmt(IOPS_BOUNDS.gp3.min)} to ${fmt(IOPS_BOUNDS.gp3.max)}, AWS's default 3,000); not for gp2.`,
      }),
    throughput: z
      .number()
      .int()
      .min(THROUGHPUT_BOUNDS.min)
      .max(THROUGHPUT_BOUNDS.max)
      .optional()
      .meta({
        description: `gp3 only: throughput in MiB/s, ${THROUGHPUT_BOUNDS.min} to ${fmt(THROUGHPUT_BOUNDS.max)} (AWS's default 125).`,
      }),
  })
  .default({ sizeGiB: 40, type: 'gp3' })
  .meta({
    description: 'The root EBS volume.',
    'x-kubernetes-validations': [
      {
        rule: "!(self.type in ['io1', 'io2']) || has(self.iops)",
        message:
          'io1 and io2 volumes need provisioned IOPS: set iops (for example 3000), or use gp3, whose 3,000 IOPS need no setting',
        fieldPath: '.iops',
        reason: 'FieldValueRequired',
      },
      {
        rule: "self.type != 'gp2' || !has(self.iops)",
        message: 'gp2 IOPS follow the size (3 per GiB) and cannot be set: remove iops, or use gp3',
        fieldPath: '.iops',
      },
      ...iopsRules,
      {
        rule: "self.type == 'gp3' || !has(self.throughput)",
        message: 'only gp3 volumes take a throughput: remove throughput, or use gp3',
        fieldPath: '.throughput',
      },
      {
        rule: '!has(self.throughput) || self.throughput * 4 <= (has(self.iops) ? self.iops : 3000)',
        message:
          'gp3 takes at most 0.25 MiB/s of throughput per IOPS (3,000 IOPS when iops is not set): raise iops to at least 4 times throughput, or lower throughput',
        fieldPath: '.throughput',
      },
    ],
  });
