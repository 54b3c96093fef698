// A kubeconfig file for one cluster, one user and one context.
import { stringify } from 'yaml';
import { toBase64Data } from './pem.js';

export interface KubeconfigOptions {
  clusterName: string;
  /** https://host:port */
  server: string;
  /** The cluster CA certificate: PEM, or the base64 of the PEM. */
  caData: string;
  /** A client certificate and its key (PEM or base64 of PEM); or else a bearer token. */
  clientCertData?: string;
  clientKeyData?: string;
  token?: string;
  /** Or a credential plug-in run by kubectl (client.authentication.k8s.io/v1beta1), for people. */
  exec?: { command: string; args: string[]; env?: { name: string; value: string }[] };
  /** The user entry's name; `<clusterName>-admin` when absent. */
  user?: string;
  /** The context's name; `<user>@<clusterName>` when absent. */
  context?: string;
}

/**
 * Renders a kubeconfig as YAML. Exactly one credential: a client certificate with its key, a token,
 * or an exec plug-in.
 */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  const hasCert = opts.clientCertData !== undefined || opts.clientKeyData !== undefined;
  const hasToken = opts.token !== undefined;
  const hasExec = opts.exec !== undefined;
  if ([hasCert, hasToken, hasExec].filter(Boolean).length !== 1) {
    throw new Error(
      'renderKubeconfig: give exactly one of clientCertData with clientKeyData, token, or exec',
    );
  }
  if (hasCert && (!opts.clientCertData || !opts.clientKeyData)) {
    throw new Error('renderKubeconfig: clientCertData and clientKeyData go together');
  }
  if (!/^https?:\/\//.test(opts.server)) {
    throw new Error(`renderKubeconfig: server must be an http(s) URL, got '${opts.server}'`);
  }
  const user = opts.user ?? `${opts.clusterName}-admin`;
  const context = opts.context ?? `${user}@${opts.clusterName}`;
  const credential = hasCert
    ? {
        'client-certificate-data': toBase64Data(opts.clientCertData as string),
        'client-key-data': toBase64Data(opts.clientKeyData as string),
      }
    : hasToken
      ? { token: opts.token }
      : {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: opts.exec!.command,
            args: opts.exec!.args,
            ...(opts.exec!.env ? { env: opts.exec!.env } : {}),
            interactiveMode: 'IfAvailable',
            provideClusterInfo: false,
          },
        };
  return stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: opts.clusterName,
          cluster: { server: opts.server, 'certificate-authority-data': toBase64Data(opts.caData) },
        },
      ],
      users: [{ name: user, user: credential }],
      contexts: [{ name: context, context: { cluster: opts.clusterName, user } }],
      'current-context': context,
      preferences: {},
    },
    { lineWidth: 0 },
  );
}
