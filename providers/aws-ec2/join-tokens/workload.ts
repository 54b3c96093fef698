// The join-token Secrets in a workload cluster's kube-system, and the Node that says a machine has
// joined, through the workload cluster's API as its admin. Every function throws when the API does
// not answer; the caller decides what waits on it.
import { isNotFound } from '../../../src/runtime/errors.js';
import { type KubeClient, resourcePath } from '../../../src/runtime/transport.js';
import {
  type BootstrapToken,
  rfc3339,
  TOKEN_MACHINE_LABEL,
  TOKEN_SECRET_TYPE,
  type TokenSecretBody,
} from './token.js';

const SECRETS = { group: '', version: 'v1', plural: 'secrets' };
const NODES = { group: '', version: 'v1', plural: 'nodes' };
const NAMESPACE = 'kube-system';

interface SecretItem {
  metadata: { name: string; creationTimestamp?: string };
  data?: Record<string, string>;
}

export interface StoredToken {
  name: string;
  token: BootstrapToken;
  expiration?: string;
}

const decode = (v: string | undefined): string | undefined =>
  v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');

/** The machine's token Secrets, oldest first (more than one only if someone else made one). */
export async function machineTokens(client: KubeClient, label: string): Promise<StoredToken[]> {
  const list = await client.request<{ items: SecretItem[] }>({
    method: 'GET',
    path: resourcePath(SECRETS, { namespace: NAMESPACE }),
    query: { labelSelector: `${TOKEN_MACHINE_LABEL}=${label}`, fieldSelector: `type=${TOKEN_SECRET_TYPE}` },
  });
  const out: StoredToken[] = [];
  const items = [...list.items].sort((a, b) =>
    (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''),
  );
  for (const item of items) {
    const id = decode(item.data?.['token-id']);
    const secret = decode(item.data?.['token-secret']);
    if (!id || !secret) continue;
    const expiration = decode(item.data?.expiration);
    out.push({ name: item.metadata.name, token: { id, secret }, ...(expiration ? { expiration } : {}) });
  }
  return out;
}

export async function createTokenSecret(client: KubeClient, body: TokenSecretBody): Promise<void> {
  await client.request({ method: 'POST', path: resourcePath(SECRETS, { namespace: NAMESPACE }), body });
}

/** Moves the token's expiration to `at`. */
export async function renewTokenSecret(client: KubeClient, name: string, at: Date): Promise<void> {
  await client.request({
    method: 'PATCH',
    path: resourcePath(SECRETS, { namespace: NAMESPACE, name }),
    contentType: 'application/merge-patch+json',
    body: { data: { expiration: Buffer.from(rfc3339(at)).toString('base64') } },
  });
}

export async function deleteTokenSecret(client: KubeClient, name: string): Promise<void> {
  try {
    await client.request({ method: 'DELETE', path: resourcePath(SECRETS, { namespace: NAMESPACE, name }) });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Whether a Node with this provider ID is registered: the kubelet has joined with the token. */
export async function nodeRegistered(client: KubeClient, providerID: string): Promise<boolean> {
  const list = await client.request<{ items: { spec?: { providerID?: string } }[] }>({
    method: 'GET',
    path: resourcePath(NODES),
  });
  return list.items.some((n) => n.spec?.providerID === providerID);
}
