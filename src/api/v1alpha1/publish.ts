// Cluster.spec.publish: the tools downstream a cluster is registered with (src/publish/ writes the
// registrations). Each tool's name and default namespace stand once, in PUBLISH_TARGETS, for the
// schema's descriptions and the publishers alike.
import { z } from 'zod';

export interface PublishTargetInfo {
  /** The tool's name for people. */
  tool: string;
  /** Where its registration goes unless spec.publish.<target>.namespace says; absent: the Cluster's namespace. */
  defaultNamespace?: string;
}

export const PUBLISH_TARGETS = {
  argoCD: { tool: 'Argo CD', defaultNamespace: 'argocd' },
  fleet: { tool: 'Fleet', defaultNamespace: 'fleet-default' },
  karmada: { tool: 'Karmada', defaultNamespace: 'karmada-cluster' },
  istio: { tool: 'Istio', defaultNamespace: 'istio-system' },
  flux: { tool: 'Flux' },
} as const satisfies Record<string, PublishTargetInfo>;

/** The keys of `spec.publish`. */
export type PublishTarget = keyof typeof PUBLISH_TARGETS;

/** A name or namespace in the tool's management cluster: an RFC 1123 label; absent, a default. */
const registrationName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
  .optional();

/** A label key: an optional DNS-subdomain prefix and a slash, then a name of 1 to 63 characters. */
const LABEL_KEY =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';

const labelKeys = z
  .array(
    z
      .string()
      .max(317)
      .meta({
        description: 'A label key of the Cluster (team, example.com/owner).',
        'x-kubernetes-validations': [
          {
            rule: "!self.contains('=')",
            message:
              "names a label by its key only: write team, not team=platform; the value is the Cluster's own",
          },
          {
            rule: `self.contains('=') || self.matches(r'${LABEL_KEY}')`,
            message:
              'must be a label key: an optional DNS prefix and a slash, then 1 to 63 letters, digits, -, _ or . starting and ending with a letter or digit (team, example.com/owner)',
          },
        ],
      }),
  )
  .max(32)
  .optional()
  .meta({ description: "Keys of the Cluster's own labels copied onto the registration." });

const publishTarget = (target: PublishTarget) => {
  const { tool, defaultNamespace = "the Cluster's" }: PublishTargetInfo = PUBLISH_TARGETS[target];
  return z.object({
    name: registrationName.meta({
      description: `The name the cluster is registered under in ${tool}; default the Cluster's name.`,
    }),
    namespace: registrationName.meta({
      description: `The namespace of the management cluster the ${tool} registration is written to; default ${defaultNamespace}.`,
    }),
    labels: labelKeys,
  });
};

export const publish = z
  .object({
    argoCD: publishTarget('argoCD')
      .extend({
        awsRoleARN: z
          .string()
          .max(2048)
          .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/)
          .optional()
          .meta({
            description:
              "EKS clusters only: the IAM role Argo CD assumes to reach the cluster (awsAuthConfig.roleARN); default Argo CD's own AWS identity.",
          }),
      })
      .optional()
      .meta({ description: 'Register the cluster with Argo CD.' }),
    fleet: publishTarget('fleet')
      .optional()
      .meta({ description: 'Register the cluster with Rancher Fleet.' }),
    karmada: publishTarget('karmada').optional().meta({ description: 'Register the cluster with Karmada.' }),
    istio: publishTarget('istio')
      .optional()
      .meta({ description: 'Publish an Istio multi-cluster remote secret.' }),
    flux: publishTarget('flux').optional().meta({
      description:
        'Write <name>-flux-kubeconfig for Flux spec.kubeConfig: a Secret with a token of its own (secretRef), or for EKS a ConfigMap for secret-less access (configMapRef).',
    }),
  })
  .meta({
    description:
      'Where to publish the cluster besides the Cluster API kubeconfig Secret <cluster>-kubeconfig, which is always written.',
  });
