// The API group and version, and the name rules, without zod: the CLI's start-up imports these, and
// loading zod (meta.ts) costs it a tenth of a second.
export const GROUP = 'clusterforge.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

/** A DNS-1123 label: the form of a name that must also fit AWS names and tags. */
export const DNS_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** A DNS-1123 subdomain: DNS labels joined by dots (each label's 63 characters are a rule of its own). */
export const DNS_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** Cluster names become parts of AWS resource names (a load balancer name holds 32 characters). */
export const MAX_CLUSTER_NAME = 40;
