// Kubelet workers' pod subnets: one /24 per node, unique on the host across clusters, kept by its
// owner across calls, freed on release, never one a host route covers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimNodeSubnet, releaseNodeSubnet, subnetOf } from '../../../providers/local/kubelet/subnets.js';

let root = '';
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cf-subnets-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

// 10.99.0.0/16 is assumed not to be routed on a test host.
const BLOCK = '10.99.0.0/16';

describe('node subnets', () => {
  it('gives two nodes two /24s, and one node the same /24 every time', async () => {
    const a = await claimNodeSubnet(root, BLOCK, '/state/a');
    const b = await claimNodeSubnet(root, BLOCK, '/state/b');
    expect(a).toEqual({ cidr: '10.99.0.0/24', bridgeAddress: '10.99.0.1/24', gateway: '10.99.0.1' });
    expect(b.cidr).toBe('10.99.1.0/24');
    expect(await claimNodeSubnet(root, BLOCK, '/state/a')).toEqual(a);
    // A node keeps the subnet it has, even once a lower one is free again.
    await releaseNodeSubnet(root, a.cidr, '/state/a');
    expect((await claimNodeSubnet(root, BLOCK, '/state/b', b.cidr)).cidr).toBe('10.99.1.0/24');
  });

  it('shares one pod block between clusters on the host, and reuses a released /24', async () => {
    await claimNodeSubnet(root, BLOCK, '/cluster-1/node');
    const other = await claimNodeSubnet(root, '10.99.0.0/16', '/cluster-2/node');
    expect(other.cidr).toBe('10.99.1.0/24');
    await releaseNodeSubnet(root, '10.99.0.0/24', '/someone-else');
    expect((await claimNodeSubnet(root, BLOCK, '/cluster-3/node')).cidr).toBe('10.99.2.0/24');
    await releaseNodeSubnet(root, '10.99.0.0/24', '/cluster-1/node');
    expect((await claimNodeSubnet(root, BLOCK, '/cluster-4/node')).cidr).toBe('10.99.0.0/24');
  });

  it('refuses a block smaller than a /24, and says when the block is full', async () => {
    await expect(claimNodeSubnet(root, '10.99.0.0/25', '/x')).rejects.toThrow(/smaller than one node's \/24/);
    await claimNodeSubnet(root, '10.99.7.0/24', '/x');
    await expect(claimNodeSubnet(root, '10.99.7.0/24', '/y')).rejects.toThrow(/every \/24 of the pod block/);
    expect(() => subnetOf('nonsense')).toThrow(/not an IPv4 CIDR/);
  });
});
