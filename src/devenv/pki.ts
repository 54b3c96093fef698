// The certificates of a local management plane (ECDSA P-256): a CA, the API server's serving
// certificate, an admin client certificate (group system:masters) and the ServiceAccount key pair.

// @peculiar/x509 (through tsyringe) needs the Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 types its provider with the DOM's Crypto, which this project's `lib` does not declare.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<x509.CryptoProvider['set']>[1]);

export interface ManagementPki {
  caCertPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  saPrivateKeyPem: string;
  saPublicKeyPem: string;
}

interface KeyPairPem {
  keys: webcrypto.CryptoKeyPair;
  privateKeyPem: string;
  publicKeyPem: string;
}

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function newKeyPair(): Promise<KeyPairPem> {
  const keys = await webcrypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify']);
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return {
    keys,
    privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
    publicKeyPem: x509.PemConverter.encode(spki, 'PUBLIC KEY'),
  };
}

/** A random positive serial number (Go refuses negative ones), as hex. */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function validity(): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 60 * 60 * 1000), notAfter: new Date(now + 365 * 24 * 60 * 60 * 1000) };
}

export interface ManagementPkiOptions {
  /** The CA's common name. */
  caName: string;
  /** The admin's user name (the certificate's CN); its group is system:masters. */
  adminUser: string;
  /** The first IP of the service CIDR (a SAN of the serving certificate). */
  serviceIP: string;
}

export async function generateManagementPki(opts: ManagementPkiOptions): Promise<ManagementPki> {
  const [caKeys, serverKeys, adminKeys, saKeys] = await Promise.all([
    newKeyPair(),
    newKeyPair(),
    newKeyPair(),
    newKeyPair(),
  ]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${opts.caName}`,
    ...validity(),
    keys: caKeys.keys,
    signingAlgorithm: SIGNING_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.keys.publicKey),
    ],
  });
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(ca);

  const leaf = async (subject: string, keys: KeyPairPem, extensions: x509.Extension[]): Promise<string> => {
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: ca.subject,
      ...validity(),
      publicKey: keys.keys.publicKey,
      signingKey: caKeys.keys.privateKey,
      signingAlgorithm: SIGNING_ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        authorityKeyId,
        ...extensions,
      ],
    });
    return cert.toString('pem');
  };

  const serverCertPem = await leaf('CN=kube-apiserver', serverKeys, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension([
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: opts.serviceIP },
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: 'kubernetes' },
      { type: 'dns', value: 'kubernetes.default' },
      { type: 'dns', value: 'kubernetes.default.svc' },
      { type: 'dns', value: 'kubernetes.default.svc.cluster.local' },
    ]),
  ]);
  const adminCertPem = await leaf(`CN=${opts.adminUser}, O=system:masters`, adminKeys, [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
  ]);

  return {
    caCertPem: ca.toString('pem'),
    serverCertPem,
    serverKeyPem: serverKeys.privateKeyPem,
    adminCertPem,
    adminKeyPem: adminKeys.privateKeyPem,
    saPrivateKeyPem: saKeys.privateKeyPem,
    saPublicKeyPem: saKeys.publicKeyPem,
  };
}
