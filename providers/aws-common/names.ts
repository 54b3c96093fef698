// Names and ClientTokens derived from the owning object, so a repeated create asks for the same thing.
import { createHash } from 'node:crypto';
import type { ClusterIdentity } from './tags.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * An EC2 ClientToken (at most 64 ASCII characters) for one create made on behalf of the object with
 * `uid`: the same object and purpose always give the same token, so AWS answers a retried create
 * with the resource the first one made. (Not every emulator honours it: lookups by tag come first.)
 */
export function clientToken(uid: string, purpose: string): string {
  return sha256(`${uid}/${purpose}`).slice(0, 64);
}

/** A short hash of the cluster's identity, to make names unique per cluster (and per incarnation). */
export function clusterHash(id: ClusterIdentity, length = 6): string {
  return sha256(`${id.namespace}/${id.name}/${id.uid}`).slice(0, length);
}

/**
 * A name for an Elastic Load Balancing resource (at most 32 characters of [a-zA-Z0-9-], no hyphen
 * at either end): `<cluster name, shortened>-<hash>-<suffix>`.
 */
export function elbName(id: ClusterIdentity, suffix: string): string {
  const tail = `-${clusterHash(id)}-${suffix}`;
  const head = id.name
    .replace(/[^a-zA-Z0-9-]/g, '-')
    .slice(0, Math.max(1, 32 - tail.length))
    .replace(/-+$/, '');
  return `${head || 'c'}${tail}`;
}
