// Key pairs for the cluster PKI: generated as ECDSA P-256 through Node's WebCrypto, kept as PEM.
// Keys read back from PEM may also be RSA or ECDSA P-384 (a CA brought from kubeadm, for example).
// @peculiar/x509 registers its algorithms through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { createPrivateKey, createPublicKey, type KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { derToPem, pemToDer } from './pem.js';

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

// @peculiar/x509 signs and verifies through this provider.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const subtle: webcrypto.SubtleCrypto = webcrypto.subtle;

/** The algorithm new keys are made with. */
export const DEFAULT_KEY_ALGORITHM: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

/** A new extractable ECDSA P-256 key pair. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(DEFAULT_KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which Go's TLS stack reads. */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  return derToPem(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A public key as SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`). */
export async function publicKeyToPem(key: CryptoKey): Promise<string> {
  return derToPem(await subtle.exportKey('spki', key), 'PUBLIC KEY');
}

/** The WebCrypto algorithms that go with a Node key: for importing it, and for signing with it. */
function algorithmsOf(key: KeyObject): {
  importParams: webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams;
  signing: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
} {
  if (key.asymmetricKeyType === 'rsa') {
    const params = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { importParams: params, signing: params };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') {
      return {
        importParams: { name: 'ECDSA', namedCurve: 'P-256' },
        signing: { name: 'ECDSA', hash: 'SHA-256' },
      };
    }
    if (curve === 'secp384r1' || curve === 'P-384') {
      return {
        importParams: { name: 'ECDSA', namedCurve: 'P-384' },
        signing: { name: 'ECDSA', hash: 'SHA-384' },
      };
    }
    throw new Error(`unsupported elliptic curve ${curve ?? '(unknown)'}: want P-256 or P-384`);
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}: want ECDSA or RSA`);
}

/** A signing key read from PEM (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`). */
export interface SigningKey {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** What to pass as the signing algorithm of a certificate signed with this key. */
  signingAlgorithm: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams;
}

export async function importSigningKey(pem: string): Promise<SigningKey> {
  let nodeKey: KeyObject;
  try {
    nodeKey = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`not a PEM private key: ${(err as Error).message}`);
  }
  const { importParams, signing } = algorithmsOf(nodeKey);
  const pkcs8 = nodeKey.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(nodeKey).export({ format: 'der', type: 'spki' });
  const privateKey = await subtle.importKey('pkcs8', pkcs8, importParams, true, ['sign']);
  const publicKey = await subtle.importKey('spki', spki, importParams, true, ['verify']);
  return { privateKey, publicKey, signingAlgorithm: signing };
}

/** The SubjectPublicKeyInfo (DER) of a private key, certificate or public key PEM. */
export function publicKeyDer(pem: string): Buffer {
  if (pem.includes('PRIVATE KEY-----')) {
    return createPublicKey(createPrivateKey(pem)).export({ format: 'der', type: 'spki' });
  }
  if (pem.includes('-----BEGIN CERTIFICATE-----')) {
    const cert = new x509.X509Certificate(pemToDer(pem, 'CERTIFICATE'));
    return Buffer.from(cert.publicKey.rawData);
  }
  return createPublicKey(pem).export({ format: 'der', type: 'spki' });
}

/** Whether a certificate (or public key) and a private key belong together. */
export function keyMatches(certOrPublicKeyPem: string, privateKeyPem: string): boolean {
  return publicKeyDer(certOrPublicKeyPem).equals(publicKeyDer(privateKeyPem));
}
