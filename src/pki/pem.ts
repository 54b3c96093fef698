// PEM encoding: split bundles, convert between PEM, DER and the base64 that kubeconfig files carry.

export interface PemBlock {
  /** The label between BEGIN and END, e.g. CERTIFICATE or PRIVATE KEY. */
  label: string;
  der: Buffer;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END \1-----/g;

/** Every PEM block in a text, in order (a certificate bundle gives one block per certificate). */
export function splitPem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const label = match[1] as string;
    const body = (match[2] as string).replace(/\s+/g, '');
    blocks.push({ label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

/** The DER bytes of the first PEM block, optionally requiring its label. */
export function pemToDer(pem: string, label?: string): Buffer {
  const block = splitPem(pem).find((b) => label === undefined || b.label === label);
  if (!block) throw new Error(label ? `no PEM block labelled ${label}` : 'no PEM block found');
  return block.der;
}

/** DER bytes as PEM, 64 characters a line, with a final newline. */
export function derToPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  const body = Buffer.from(bytes).toString('base64');
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function isPem(text: string): boolean {
  return /-----BEGIN [A-Z0-9 ]+-----/.test(text);
}

/**
 * The base64 of a PEM text, as in kubeconfig `*-data` fields. Text that is already base64 of a PEM
 * is returned as it is, so callers may hold either form.
 */
export function toBase64Data(pemOrBase64: string): string {
  if (isPem(pemOrBase64)) return Buffer.from(pemOrBase64, 'utf8').toString('base64');
  const decoded = Buffer.from(pemOrBase64.trim(), 'base64').toString('utf8');
  if (isPem(decoded)) return pemOrBase64.trim();
  throw new Error('expected PEM text or the base64 of PEM text');
}

/** The PEM text from a kubeconfig `*-data` field (or PEM text unchanged). */
export function fromBase64Data(base64OrPem: string): string {
  if (isPem(base64OrPem)) return base64OrPem;
  const decoded = Buffer.from(base64OrPem.trim(), 'base64').toString('utf8');
  if (!isPem(decoded)) throw new Error('expected the base64 of PEM text');
  return decoded;
}
