// Credentials of a cluster: the Secret its spec names (credentialsRef), else the default AWS chain.
// The provider is given a SecretReader when it is made; it never talks to Kubernetes itself.
import { createHash } from 'node:crypto';
import { failed, type Progress } from '../../src/provider/contract.js';

/** Reads a Secret's data, base64-decoded; undefined when the Secret does not exist. */
export type SecretReader = (namespace: string, name: string) => Promise<Record<string, string> | undefined>;

export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const ACCESS_KEY_ID = 'AWS_ACCESS_KEY_ID';
export const SECRET_ACCESS_KEY = 'AWS_SECRET_ACCESS_KEY';
export const SESSION_TOKEN = 'AWS_SESSION_TOKEN';

export type CredentialsResult =
  | {
      /** undefined: the SDK's default credential chain. */
      credentials: StaticCredentials | undefined;
      /** Identifies the credential set without revealing it (for the client cache). */
      cacheKey: string;
    }
  | { progress: Progress };

export async function resolveCredentials(
  ref: { name: string } | undefined,
  namespace: string,
  reader: SecretReader | undefined,
): Promise<CredentialsResult> {
  if (!ref) return { credentials: undefined, cacheKey: 'default-chain' };
  const where = `Secret ${namespace}/${ref.name} (spec.infrastructure.*.credentialsRef)`;
  if (!reader) {
    return {
      progress: failed(
        'CredentialsUnavailable',
        `${where} cannot be read: this operator was started without a Secret reader`,
      ),
    };
  }
  let data: Record<string, string> | undefined;
  try {
    data = await reader(namespace, ref.name);
  } catch (err) {
    return {
      progress: failed(
        'CredentialsUnreadable',
        `${where} could not be read: ${(err as Error).message ?? err}`,
      ),
    };
  }
  if (!data) return { progress: failed('CredentialsNotFound', `${where} does not exist`) };
  const accessKeyId = data[ACCESS_KEY_ID]?.trim();
  const secretAccessKey = data[SECRET_ACCESS_KEY]?.trim();
  const sessionToken = data[SESSION_TOKEN]?.trim();
  const missing = [!accessKeyId && ACCESS_KEY_ID, !secretAccessKey && SECRET_ACCESS_KEY].filter(Boolean);
  if (missing.length > 0) {
    return { progress: failed('CredentialsInvalid', `${where} has no ${missing.join(' and no ')}`) };
  }
  const credentials: StaticCredentials = {
    accessKeyId: accessKeyId as string,
    secretAccessKey: secretAccessKey as string,
    ...(sessionToken ? { sessionToken } : {}),
  };
  const digest = createHash('sha256')
    .update(`${credentials.secretAccessKey}\0${credentials.sessionToken ?? ''}`)
    .digest('hex')
    .slice(0, 16);
  return { credentials, cacheKey: `${credentials.accessKeyId}:${digest}` };
}
