// Reading certificates back: what a certificate says, and whether a CA issued it.
// @peculiar/x509 registers its algorithms through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import './keys.js';
import { pemToDer } from './pem.js';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

export type ExtKeyUsageName = 'serverAuth' | 'clientAuth' | string;

export interface CertificateInfo {
  commonName: string | undefined;
  organizations: string[];
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
  dnsNames: string[];
  ipAddresses: string[];
  keyUsages: KeyUsageName[];
  extKeyUsages: ExtKeyUsageName[];
  subjectKeyId: string | undefined;
  authorityKeyId: string | undefined;
}

const KEY_USAGE_NAMES: [x509.KeyUsageFlags, KeyUsageName][] = [
  [x509.KeyUsageFlags.digitalSignature, 'digitalSignature'],
  [x509.KeyUsageFlags.nonRepudiation, 'nonRepudiation'],
  [x509.KeyUsageFlags.keyEncipherment, 'keyEncipherment'],
  [x509.KeyUsageFlags.dataEncipherment, 'dataEncipherment'],
  [x509.KeyUsageFlags.keyAgreement, 'keyAgreement'],
  [x509.KeyUsageFlags.keyCertSign, 'keyCertSign'],
  [x509.KeyUsageFlags.cRLSign, 'cRLSign'],
  [x509.KeyUsageFlags.encipherOnly, 'encipherOnly'],
  [x509.KeyUsageFlags.decipherOnly, 'decipherOnly'],
];

const EXT_KEY_USAGE_NAMES: Record<string, ExtKeyUsageName> = {
  [x509.ExtendedKeyUsage.serverAuth]: 'serverAuth',
  [x509.ExtendedKeyUsage.clientAuth]: 'clientAuth',
};

/** The first certificate of a PEM text as a @peculiar/x509 object. */
export function loadCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pemToDer(pem, 'CERTIFICATE'));
}

function attribute(name: x509.Name, type: string): string[] {
  return name.getField(type);
}

/** What a certificate (PEM) says. */
export function parseCertificate(pem: string): CertificateInfo {
  const cert = loadCertificate(pem);
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  const extKeyUsage = cert.getExtension(x509.ExtendedKeyUsageExtension);
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const ski = cert.getExtension(x509.SubjectKeyIdentifierExtension);
  const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension);
  const names = san?.names.items ?? [];
  return {
    commonName: attribute(cert.subjectName, 'CN')[0],
    organizations: attribute(cert.subjectName, 'O'),
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    isCA: basic?.ca ?? false,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
    keyUsages: keyUsage
      ? KEY_USAGE_NAMES.filter(([flag]) => (keyUsage.usages & flag) !== 0).map(([, n]) => n)
      : [],
    extKeyUsages: extKeyUsage
      ? extKeyUsage.usages.map((u) => EXT_KEY_USAGE_NAMES[String(u)] ?? String(u))
      : [],
    subjectKeyId: ski?.keyId,
    authorityKeyId: aki?.keyId,
  };
}

/** Whether `certPem` names `caPem`'s subject as its issuer and carries a valid signature of its key. */
export async function isIssuedBy(certPem: string, caPem: string): Promise<boolean> {
  const cert = loadCertificate(certPem);
  const ca = loadCertificate(caPem);
  if (cert.issuer !== ca.subject) return false;
  return await cert.verify({ publicKey: ca.publicKey, signatureOnly: true });
}

/** Whether the certificate is outside its validity window, or will be within `marginMs`. */
export function expiresWithin(certPem: string, marginMs: number, now = new Date()): boolean {
  const cert = loadCertificate(certPem);
  return cert.notBefore.getTime() > now.getTime() || cert.notAfter.getTime() - marginMs <= now.getTime();
}
