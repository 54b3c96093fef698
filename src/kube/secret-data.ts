// A Secret's data, decoded: what providers are given to read credentials (they never hold a client).
import type { ObjectWriter } from './writer.js';

export type SecretDataReader = (
  namespace: string,
  name: string,
) => Promise<Record<string, string> | undefined>;

/** Reads Secrets through the operator's own client; undefined when the Secret does not exist. */
export function secretDataReader(writer: Pick<ObjectWriter, 'readSecret'>): SecretDataReader {
  return async (namespace, name) => {
    const secret = await writer.readSecret(namespace, name);
    if (!secret) return undefined;
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      out[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
    return out;
  };
}
