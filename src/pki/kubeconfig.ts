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
  /** The user entry's name; `<clusterName>-admin` when absent. */
  user?: string;
  /** The context's name; `<user>@<clusterName>` when absent. */
  context?: string;
}

/** Renders a kubeconfig as YAML. Exactly one credential: a client certificate with its key, or a token. */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  const hasCert = opts.clientCertData !== undefined || opts.clientKeyData !== undefined;
  const hasToken = opts.token !== undefined;
  if (hasCert === hasToken) {
    throw new Error('renderKubeconfig: give either clientCertData with clientKeyData, or token');
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
    : { token: opts.token };
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
