// Each kubelet worker's pod subnet: a /24 of its cluster's pod block that no other node on this
// host holds and no route of the host covers. The node's bridge carries the subnet's first address,
// so the host (the kubelet's HTTP probes, the API server's proxy) reaches its pods on-link, with no
// forwarding, NAT or sysctl change; unique on the host because every node's bridge is in the host's
// network namespace, whichever cluster it belongs to. A claim is a file created exclusively.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from '../state.js';

const toNumber = (ip: string) => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
const toIP = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function parseCIDR(cidr: string): { base: number; prefix: number } {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!match) throw new Error(`pod block '${cidr}' is not an IPv4 CIDR block`);
  const prefix = Number(match[2]);
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(toNumber(match[1] as string) / size) * size, prefix };
}

/** The host's IPv4 routes as [network, size] (from /proc/net/route: little-endian hex). */
async function hostRoutes(): Promise<[number, number][]> {
  const text = await readFile('/proc/net/route', 'utf8').catch(() => '');
  const le = (hex: string) => Number.parseInt(hex.match(/../g)!.reverse().join(''), 16);
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length > 7 && f[1] !== '00000000')
    .map((f) => [le(f[1] as string), 2 ** 32 - le(f[7] as string)]);
}

const overlaps = (a: number, aSize: number, b: number, bSize: number) => a < b + bSize && b < a + aSize;

export interface NodeSubnet {
  /** x.y.z.0/24 */
  cidr: string;
  /** x.y.z.1/24: the bridge's address. */
  bridgeAddress: string;
  gateway: string;
}

export function subnetOf(cidr: string): NodeSubnet {
  const { base } = parseCIDR(cidr);
  return { cidr, bridgeAddress: `${toIP(base + 1)}/24`, gateway: toIP(base + 1) };
}

const claimsDir = (stateRoot: string) => join(stateRoot, 'local', 'node-subnets');
const claimFile = (stateRoot: string, cidr: string) => join(claimsDir(stateRoot), cidr.replace('/', '_'));

/** The node's subnet: the one it claimed before (`previous`), else the first free /24 of the pod block. */
export async function claimNodeSubnet(
  stateRoot: string,
  podBlock: string,
  owner: string,
  previous?: string,
): Promise<NodeSubnet> {
  const { base, prefix } = parseCIDR(podBlock);
  if (prefix > 24) throw new Error(`pod block ${podBlock} is smaller than one node's /24`);
  if (previous && (await readFile(claimFile(stateRoot, previous), 'utf8').catch(() => undefined)) === owner) {
    return subnetOf(previous);
  }
  await ensureDir(claimsDir(stateRoot));
  const routes = await hostRoutes();
  for (let i = 0; i < 2 ** (24 - prefix); i++) {
    const network = base + i * 256;
    const cidr = `${toIP(network)}/24`;
    const file = claimFile(stateRoot, cidr);
    const holder = await readFile(file, 'utf8').catch(() => undefined);
    if (holder === owner) return subnetOf(cidr);
    if (holder !== undefined) continue;
    if (routes.some(([net, size]) => overlaps(network, 256, net, size))) continue;
    try {
      await writeFile(file, owner, { flag: 'wx' });
      return subnetOf(cidr);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`every /24 of the pod block ${podBlock} is taken by a node on this host or a host route`);
}

/** Gives the subnet back (only the owner's claim). */
export async function releaseNodeSubnet(stateRoot: string, cidr: string, owner: string): Promise<void> {
  const file = claimFile(stateRoot, cidr);
  if ((await readFile(file, 'utf8').catch(() => undefined)) === owner)
    await unlink(file).catch(() => undefined);
}
