// Provider settings are optional sibling objects, one per provider, of which exactly one is set
// (docs/development.md, "API decisions"): the Cluster's infrastructure and a MachineTemplate's
// machine spec both take this form.
import { z } from 'zod';

/** The CEL rule on the object that holds the siblings. */
export const exactlyOneProvider = {
  rule: '[has(self.local), has(self.awsEC2), has(self.awsEKS), has(self.inMemory)].filter(x, x).size() == 1',
  message: 'exactly one of local, awsEC2, awsEKS or inMemory must be set',
};

/** The object of siblings, each optional; its `.meta()` gives the description and the rules. */
export const providerSettings = <
  Local extends z.ZodType,
  AwsEC2 extends z.ZodType,
  AwsEKS extends z.ZodType,
  InMemory extends z.ZodType,
>(settings: {
  local: Local;
  awsEC2: AwsEC2;
  awsEKS: AwsEKS;
  inMemory: InMemory;
}) =>
  z.object({
    local: settings.local.optional(),
    awsEC2: settings.awsEC2.optional(),
    awsEKS: settings.awsEKS.optional(),
    inMemory: settings.inMemory.optional(),
  });
