// Making certificates: self-signed certificate authorities, and leaf certificates signed by one.
// @peculiar/x509 registers its algorithms through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { KeyPair } from '../provider/contract.js';
import { loadCertificate } from './inspect.js';
import { DEFAULT_KEY_ALGORITHM, generateKeyPair, importSigningKey, privateKeyToPem } from './keys.js';
import { derToPem } from './pem.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Certificates start a little in the past, so a clock slightly behind ours accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;

export const DEFAULT_CA_VALIDITY_DAYS = 3650;
export const DEFAULT_LEAF_VALIDITY_DAYS = 365;

export type ExtendedUsage = 'serverAuth' | 'clientAuth';

export interface CertificateAuthorityOptions {
  commonName: string;
  organizations?: string[];
  validityDays?: number;
}

export interface CertificateProfile {
  commonName: string;
  /** Subject O= values: the groups of a client certificate (system:masters, system:nodes, ...). */
  organizations?: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: ExtendedUsage[];
  validityDays?: number;
}

/** A positive 128-bit serial number, as hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function subjectName(commonName: string, organizations: string[] = []): x509.JsonName {
  return [...organizations.map((o) => ({ O: [o] })), { CN: [commonName] }];
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** A new self-signed certificate authority with an ECDSA P-256 key. */
export async function createCertificateAuthority(opts: CertificateAuthorityOptions): Promise<KeyPair> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: subjectName(opts.commonName, opts.organizations),
    keys: keys as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'],
    signingAlgorithm: { name: DEFAULT_KEY_ALGORITHM.name, hash: 'SHA-256' },
    ...validity(opts.validityDays ?? DEFAULT_CA_VALIDITY_DAYS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { cert: derToPem(cert.rawData, 'CERTIFICATE'), key: await privateKeyToPem(keys.privateKey) };
}

/** A new key pair and a certificate for it, signed by `ca`. */
export async function issueCertificate(ca: KeyPair, profile: CertificateProfile): Promise<KeyPair> {
  if (profile.usages.length === 0) throw new Error(`certificate ${profile.commonName}: no usage given`);
  const caCert = loadCertificate(ca.cert);
  const signer = await importSigningKey(ca.key);
  const keys = await generateKeyPair();

  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const names: x509.JsonGeneralName[] = [
    ...(profile.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(profile.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      profile.usages.map((u) => x509.ExtendedKeyUsage[u]),
      false,
    ),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    caKeyId
      ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
      : await x509.AuthorityKeyIdentifierExtension.create(signer.publicKey as never),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));

  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: subjectName(profile.commonName, profile.organizations),
    issuer: caCert.subjectName,
    publicKey: keys.publicKey as never,
    signingKey: signer.privateKey as never,
    signingAlgorithm: signer.signingAlgorithm,
    ...validity(profile.validityDays ?? DEFAULT_LEAF_VALIDITY_DAYS),
    extensions,
  });
  return { cert: derToPem(cert.rawData, 'CERTIFICATE'), key: await privateKeyToPem(keys.privateKey) };
}
