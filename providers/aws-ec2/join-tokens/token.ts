// A kubeadm bootstrap token and the Secret that makes the API server accept it, in the shape of
// Cluster API's kubeadm bootstrap provider: `[a-z0-9]{6}.[a-z0-9]{16}`, drawn at random per joining
// machine, valid for a short TTL that the operator extends while the machine has not joined.
// Pure functions: the workload-API side is in workload.ts.
import { randomInt } from 'node:crypto';

/** CABPK's default (`--bootstrap-token-ttl`): long enough for an instance to boot and join. */
export const DEFAULT_TOKEN_TTL_MS = 15 * 60_000;
export const TOKEN_PATTERN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const TOKEN_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
/** The group kubeadm's RBAC lets bootstrap tokens join with (`kubeadm init` makes its bindings). */
export const NODE_TOKEN_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
/** The workload Secret's label that names the Machine (its UID) the token is for. */
export const TOKEN_MACHINE_LABEL = 'clusterforge.dev/machine-uid';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomChars(count: number): string {
  let out = '';
  // randomInt is uniform over the alphabet (no modulo bias) and draws from the CSPRNG.
  for (let i = 0; i < count; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export interface BootstrapToken {
  id: string;
  secret: string;
}

export const tokenString = (t: BootstrapToken): string => `${t.id}.${t.secret}`;

export function newBootstrapToken(): BootstrapToken {
  return { id: randomChars(6), secret: randomChars(16) };
}

export function parseToken(token: string): BootstrapToken | undefined {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1] as string, secret: m[2] as string } : undefined;
}

/** The Secret's name, as the API server's bootstrap authenticator looks it up. */
export const tokenSecretName = (id: string): string => `bootstrap-token-${id}`;

/** RFC 3339 in UTC to the second, as kubeadm writes `expiration`. */
export function rfc3339(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export function expiryAt(now: Date, ttlMs: number): Date {
  return new Date(now.getTime() + ttlMs);
}

/**
 * Whether a token that expires at `expiration` is to be extended now: once less than two thirds of
 * its TTL is left. With the machine reconciled about once a minute and a TTL of minutes, a token
 * is extended several times before it could lapse; an unreadable expiration is extended too.
 */
export function needsRenewal(expiration: string | undefined, now: Date, ttlMs: number): boolean {
  const at = expiration ? Date.parse(expiration) : Number.NaN;
  if (Number.isNaN(at)) return true;
  return at - now.getTime() < (ttlMs * 2) / 3;
}

/** kubeadm's duration for the InitConfiguration's token: whole seconds. */
export function kubeadmTTL(ttlMs: number): string {
  return `${Math.max(1, Math.round(ttlMs / 1000))}s`;
}

export interface TokenSecretBody {
  apiVersion: 'v1';
  kind: 'Secret';
  type: typeof TOKEN_SECRET_TYPE;
  metadata: { name: string; namespace: 'kube-system'; labels: Record<string, string> };
  stringData: Record<string, string>;
}

/** The Secret that makes `token` valid until `expiresAt` for joining as a node of the cluster. */
export function tokenSecret(
  token: BootstrapToken,
  machine: { name: string; label: string },
  expiresAt: Date,
): TokenSecretBody {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: TOKEN_SECRET_TYPE,
    metadata: {
      name: tokenSecretName(token.id),
      namespace: 'kube-system',
      labels: { [TOKEN_MACHINE_LABEL]: machine.label },
    },
    stringData: {
      description: `clusterforge: joins machine ${machine.name}`,
      'token-id': token.id,
      'token-secret': token.secret,
      expiration: rfc3339(expiresAt),
      'usage-bootstrap-authentication': 'true',
      'usage-bootstrap-signing': 'true',
      'auth-extra-groups': NODE_TOKEN_GROUP,
    },
  };
}
