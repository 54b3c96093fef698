// PEM conversions round-trip, and a rendered kubeconfig is what kubectl and client libraries read.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  createCertificateAuthority,
  derToPem,
  fromBase64Data,
  issueAdminCertificate,
  loadCertificate,
  parseCertificate,
  pemToDer,
  renderKubeconfig,
  splitPem,
  toBase64Data,
} from '../../../src/pki/index.js';
import type { KeyPair } from '../../../src/provider/contract.js';

describe('PEM', () => {
  let ca: KeyPair;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'round-trip' });
  });

  it('round-trips a certificate through DER and back to the same PEM', () => {
    const der = pemToDer(ca.cert, 'CERTIFICATE');
    expect(derToPem(der, 'CERTIFICATE')).toBe(ca.cert);
    expect(loadCertificate(ca.cert).toString('pem').trim()).toBe(ca.cert.trim());
    expect(parseCertificate(derToPem(der, 'CERTIFICATE')).commonName).toBe('round-trip');
  });

  it('splits a bundle into its blocks, in order, with their labels', async () => {
    const other = await createCertificateAuthority({ commonName: 'second' });
    const blocks = splitPem(`${ca.cert}${other.cert}${ca.key}`);
    expect(blocks.map((b) => b.label)).toEqual(['CERTIFICATE', 'CERTIFICATE', 'PRIVATE KEY']);
    expect(parseCertificate(derToPem(blocks[1]?.der as Buffer, 'CERTIFICATE')).commonName).toBe('second');
    expect(() => pemToDer(ca.cert, 'PRIVATE KEY')).toThrow(/no PEM block labelled PRIVATE KEY/);
  });

  it('converts to and from the base64 of kubeconfig *-data fields, accepting either form', () => {
    const b64 = toBase64Data(ca.cert);
    expect(Buffer.from(b64, 'base64').toString('utf8')).toBe(ca.cert);
    expect(toBase64Data(b64)).toBe(b64);
    expect(fromBase64Data(b64)).toBe(ca.cert);
    expect(fromBase64Data(ca.cert)).toBe(ca.cert);
    expect(() => toBase64Data('hello')).toThrow(/PEM/);
  });
});

describe('renderKubeconfig', () => {
  let ca: KeyPair;
  let admin: KeyPair;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'kubernetes' });
    admin = await issueAdminCertificate(ca);
  });

  it('renders one cluster, one user with a client certificate, one current context', () => {
    const text = renderKubeconfig({
      clusterName: 'demo',
      server: 'https://127.0.0.1:6443',
      caData: ca.cert,
      clientCertData: admin.cert,
      clientKeyData: admin.key,
    });
    const config = parse(text);
    expect(config).toMatchObject({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'demo-admin@demo',
      clusters: [{ name: 'demo', cluster: { server: 'https://127.0.0.1:6443' } }],
      users: [{ name: 'demo-admin' }],
      contexts: [{ name: 'demo-admin@demo', context: { cluster: 'demo', user: 'demo-admin' } }],
    });
    expect(fromBase64Data(config.clusters[0].cluster['certificate-authority-data'])).toBe(ca.cert);
    expect(fromBase64Data(config.users[0].user['client-certificate-data'])).toBe(admin.cert);
    expect(fromBase64Data(config.users[0].user['client-key-data'])).toBe(admin.key);
  });

  it('renders a token user with given names, and CA data given as base64', () => {
    const config = parse(
      renderKubeconfig({
        clusterName: 'eks',
        server: 'https://abc.example:443',
        caData: toBase64Data(ca.cert),
        token: 'k8s-aws-v1.abc',
        user: 'robot',
        context: 'ctx',
      }),
    );
    expect(config.users).toEqual([{ name: 'robot', user: { token: 'k8s-aws-v1.abc' } }]);
    expect(config['current-context']).toBe('ctx');
    expect(fromBase64Data(config.clusters[0].cluster['certificate-authority-data'])).toBe(ca.cert);
  });

  it('wants exactly one credential and a URL', () => {
    const base = { clusterName: 'c', server: 'https://127.0.0.1:1', caData: ca.cert };
    expect(() => renderKubeconfig(base)).toThrow(/exactly one/);
    expect(() =>
      renderKubeconfig({ ...base, token: 't', clientCertData: admin.cert, clientKeyData: admin.key }),
    ).toThrow(/exactly one/);
    expect(() => renderKubeconfig({ ...base, clientCertData: admin.cert })).toThrow(/go together/);
    expect(() => renderKubeconfig({ ...base, server: '127.0.0.1:6443', token: 't' })).toThrow(/URL/);
    expect(() => renderKubeconfig({ ...base, token: 't', exec: { command: 'aws', args: [] } })).toThrow(
      /exactly one/,
    );
  });
});
