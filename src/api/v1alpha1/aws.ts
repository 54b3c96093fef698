// Field shapes of AWS that the Cluster's and the MachineTemplate's AWS settings share.
import { z } from 'zod';

/** The ID of an existing AWS resource: `vpc-…`, `subnet-…`, `ami-…`. */
export const awsId = (prefix: string, what: string) =>
  z
    .string()
    .max(64)
    .regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`))
    .meta({ description: `The ID of an existing ${what} (${prefix}-...).` });
