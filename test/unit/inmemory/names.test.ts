// The in-memory provider's names: an endpoint that can never resolve, a provider ID per machine, and
// an address that is the same on every call and inside 10.0.0.0/8.
import { describe, expect, it } from 'vitest';
import { inMemoryAddress, inMemoryEndpoint, inMemoryProviderID } from '../../../providers/inmemory/names.js';

const octets = (ip: string) => ip.split('.').map(Number);

describe('inMemoryEndpoint', () => {
  it('is <cluster>.<namespace>.inmemory.invalid on 6443', () => {
    expect(inMemoryEndpoint('team-a', 'web')).toEqual({ host: 'web.team-a.inmemory.invalid', port: 6443 });
  });
});

describe('inMemoryProviderID', () => {
  it('is inmemory://<namespace>/<machine>', () => {
    expect(inMemoryProviderID('team-a', 'web-cp-x7k2p')).toBe('inmemory://team-a/web-cp-x7k2p');
  });
});

describe('inMemoryAddress', () => {
  it('is the same for the same machine, and differs by namespace and by name', () => {
    const a = inMemoryAddress('team-a', 'web-1');
    expect(inMemoryAddress('team-a', 'web-1')).toBe(a);
    expect(inMemoryAddress('team-b', 'web-1')).not.toBe(a);
    expect(inMemoryAddress('team-a', 'web-2')).not.toBe(a);
  });

  it('is a host address of 10.0.0.0/8 for every one of a thousand machines, nearly all distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const ip = inMemoryAddress('scale', `m-${i}`);
      const [a, b, c, d] = octets(ip);
      expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(a).toBe(10);
      for (const o of [b, c, d]) expect(o).toBeGreaterThanOrEqual(0);
      for (const o of [b, c, d]) expect(o).toBeLessThanOrEqual(255);
      expect(ip).not.toBe('10.0.0.0');
      expect(ip).not.toBe('10.255.255.255');
      seen.add(ip);
    }
    // 1000 draws from ~16.7 million: a collision or two at most (the birthday bound gives ~0.03).
    expect(seen.size).toBeGreaterThanOrEqual(998);
  });
});
