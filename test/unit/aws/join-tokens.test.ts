// The pure parts of the aws-ec2 join tokens: kubeadm's token form, the Secret the API server's
// bootstrap authenticator accepts, and when an expiration is extended.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOKEN_TTL_MS,
  expiryAt,
  kubeadmTTL,
  needsRenewal,
  newBootstrapToken,
  parseToken,
  rfc3339,
  tokenSecret,
  tokenString,
} from '../../../providers/aws-ec2/join-tokens/token.js';

describe('bootstrap tokens', () => {
  it('have kubeadm’s form [a-z0-9]{6}.[a-z0-9]{16} and differ on every draw', () => {
    const drawn = Array.from({ length: 200 }, () => tokenString(newBootstrapToken()));
    for (const t of drawn) expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(new Set(drawn).size).toBe(drawn.length);
    // Every character of the alphabet turns up: the draw is not stuck on part of it.
    expect(new Set(drawn.join('').replaceAll('.', '')).size).toBe(36);
  });

  it('parse back into id and secret; anything else is refused', () => {
    expect(parseToken('abcdef.0123456789abcdef')).toEqual({ id: 'abcdef', secret: '0123456789abcdef' });
    for (const bad of ['ABCDEF.0123456789abcdef', 'abcde.0123456789abcdef', 'abcdef.0123456789abcde', ''])
      expect(parseToken(bad), bad).toBeUndefined();
  });

  it('the Secret is what kubeadm token create makes, with an RFC 3339 expiration', () => {
    const at = new Date('2026-12-03T18:30:00.456Z');
    const body = tokenSecret(
      { id: 'abcdef', secret: '0123456789abcdef' },
      { name: 'w-1', label: 'uid-1' },
      at,
    );
    expect(body).toMatchObject({
      type: 'bootstrap.kubernetes.io/token',
      metadata: {
        name: 'bootstrap-token-abcdef',
        namespace: 'kube-system',
        labels: { 'clusterforge.dev/machine-uid': 'uid-1' },
      },
      stringData: {
        'token-id': 'abcdef',
        'token-secret': '0123456789abcdef',
        expiration: '2026-12-03T18:30:00Z',
        'usage-bootstrap-authentication': 'true',
        'usage-bootstrap-signing': 'true',
        'auth-extra-groups': 'system:bootstrappers:kubeadm:default-node-token',
      },
    });
    expect(rfc3339(at)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('expiry', () => {
  const ttl = DEFAULT_TOKEN_TTL_MS;
  const now = new Date('2026-12-03T18:00:00Z');
  const minutes = (m: number) => rfc3339(new Date(now.getTime() + m * 60_000));

  it('the default TTL is Cluster API’s 15 minutes, and expiry is now + TTL', () => {
    expect(ttl).toBe(15 * 60_000);
    expect(rfc3339(expiryAt(now, ttl))).toBe('2026-12-03T18:15:00Z');
    expect(kubeadmTTL(ttl)).toBe('900s');
  });

  it('a token is extended once less than two thirds of its TTL is left, or when lapsed or unreadable', () => {
    expect(needsRenewal(minutes(15), now, ttl)).toBe(false);
    expect(needsRenewal(minutes(10.5), now, ttl)).toBe(false);
    expect(needsRenewal(minutes(9.5), now, ttl)).toBe(true);
    expect(needsRenewal(minutes(-1), now, ttl)).toBe(true);
    expect(needsRenewal(undefined, now, ttl)).toBe(true);
    expect(needsRenewal('not a time', now, ttl)).toBe(true);
  });

  it('with the machine reconciled every minute, a token never gets within 9 minutes of lapsing', () => {
    let expiration = rfc3339(expiryAt(now, ttl));
    let least = Number.POSITIVE_INFINITY;
    for (let m = 0; m <= 120; m++) {
      const at = new Date(now.getTime() + m * 60_000);
      least = Math.min(least, Date.parse(expiration) - at.getTime());
      if (needsRenewal(expiration, at, ttl)) expiration = rfc3339(expiryAt(at, ttl));
    }
    expect(least).toBeGreaterThanOrEqual(9 * 60_000);
  });
});
