// The names of a cluster's kubeconfig Secrets (kubeconfig-secret.ts writes them), apart from the
// writing: the CLI's `get kubeconfig` needs the names only, and starts without a YAML library.

/** Cluster API's <cluster>-kubeconfig, with a credential inside. */
export const kubeconfigSecretName = (cluster: string): string => `${cluster}-kubeconfig`;
/** The one that runs the provider's credential plug-in instead (EKS). */
export const userKubeconfigSecretName = (cluster: string): string => `${cluster}-user-kubeconfig`;
