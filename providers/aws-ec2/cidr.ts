// IPv4 CIDR arithmetic for carving a VPC into subnets.

export interface Cidr {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new Error(`not an IPv4 CIDR block: '${text}'`);
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`not an IPv4 CIDR block: '${text}'`);
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (address & mask) >>> 0, prefix };
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((s) => (c.base >>> s) & 0xff);
  return `${o.join('.')}/${c.prefix}`;
}

/** Block `index` of the `2^bits` equal blocks that `cidr` splits into. */
export function subdivide(cidr: string, bits: number, index: number): string {
  const parent = parseCidr(cidr);
  const prefix = parent.prefix + bits;
  if (prefix > 32) throw new Error(`${cidr} cannot be split into 2^${bits} blocks`);
  if (index < 0 || index >= 2 ** bits) throw new Error(`block ${index} is outside 2^${bits} blocks`);
  const size = 2 ** (32 - prefix);
  return formatCidr({ base: (parent.base + index * size) >>> 0, prefix });
}
