// The names and addresses of simulated clusters and machines: pure and deterministic, so a restarted
// operator reports exactly what the last one did, with nothing stored anywhere.
import { createHash } from 'node:crypto';

/** The API port every simulated cluster reports, as a kubeadm cluster's would be. */
export const INMEMORY_API_PORT = 6443;

/**
 * `<cluster>.<namespace>.inmemory.invalid`: `.invalid` is reserved (RFC 6761) and never resolves, so
 * a tool handed the kubeconfig fails at once instead of reaching something real by accident.
 */
export function inMemoryEndpoint(namespace: string, cluster: string): { host: string; port: number } {
  return { host: `${cluster}.${namespace}.inmemory.invalid`, port: INMEMORY_API_PORT };
}

/** `inmemory://<namespace>/<machine>`: machine names are unique in a namespace. */
export function inMemoryProviderID(namespace: string, machine: string): string {
  return `inmemory://${namespace}/${machine}`;
}

/** Host addresses of 10.0.0.0/8, leaving out the network (10.0.0.0) and broadcast (10.255.255.255) ones. */
const HOSTS = 2 ** 24 - 2;

/** An InternalIP in 10.0.0.0/8 from a hash of the machine's namespace and name. */
export function inMemoryAddress(namespace: string, machine: string): string {
  const digest = createHash('sha256').update(`${namespace}/${machine}`).digest();
  const host = (digest.readUIntBE(0, 3) % HOSTS) + 1;
  return `10.${(host >> 16) & 0xff}.${(host >> 8) & 0xff}.${host & 0xff}`;
}
