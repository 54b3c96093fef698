// The cluster PKI: CAs, leaf certificates, their chains, names and usages, checked with Node's own
// X.509 implementation (not the library that made them) where it can tell.
import { createPrivateKey, createPublicKey, X509Certificate as NodeX509 } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiServerSANs,
  type ControlPlaneCertificates,
  createCertificateAuthority,
  expiresWithin,
  firstServiceIP,
  generateClusterCertificates,
  importSigningKey,
  isIssuedBy,
  issueAdminCertificate,
  issueCertificate,
  issueControlPlaneCertificates,
  issueNodeClientCertificate,
  keyMatches,
  parseCertificate,
} from '../../../src/pki/index.js';
import type { ClusterCertificates } from '../../../src/provider/contract.js';

const node = (pem: string) => new NodeX509(pem);

/** Whether Node agrees that `ca` issued `cert` (issuer name and signature). */
function chainsTo(cert: string, ca: string): boolean {
  const leaf = node(cert);
  const issuer = node(ca);
  return leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
}

describe('cluster certificate authorities', () => {
  let certs: ClusterCertificates;

  beforeAll(async () => {
    certs = await generateClusterCertificates();
  });

  it('makes ca, etcd and proxy as distinct self-signed CAs with ECDSA P-256 keys', () => {
    const cns = [];
    for (const pair of [certs.ca, certs.etcd, certs.proxy]) {
      const info = parseCertificate(pair.cert);
      cns.push(info.commonName);
      expect(info.isCA).toBe(true);
      expect(info.keyUsages).toEqual(expect.arrayContaining(['keyCertSign', 'cRLSign']));
      expect(chainsTo(pair.cert, pair.cert)).toBe(true);
      expect(node(pair.cert).ca).toBe(true);
      const key = createPrivateKey(pair.key);
      expect(key.asymmetricKeyType).toBe('ec');
      expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      expect(keyMatches(pair.cert, pair.key)).toBe(true);
      expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan(9 * 365 * 24 * 3600 * 1000);
    }
    expect(cns).toEqual(['kubernetes', 'etcd-ca', 'front-proxy-ca']);
    expect(chainsTo(certs.proxy.cert, certs.ca.cert)).toBe(false);
  });

  it('makes the service-account key pair: a public key PEM and its private key', () => {
    expect(certs.sa.cert).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(certs.sa.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const fromPrivate = createPublicKey(createPrivateKey(certs.sa.key)).export({
      format: 'der',
      type: 'spki',
    });
    const published = createPublicKey(certs.sa.cert).export({ format: 'der', type: 'spki' });
    expect(fromPrivate.equals(published)).toBe(true);
    expect(keyMatches(certs.sa.cert, certs.sa.key)).toBe(true);
  });

  describe('control-plane certificates', () => {
    let leaves: ControlPlaneCertificates;

    beforeAll(async () => {
      leaves = await issueControlPlaneCertificates(certs, {
        serviceDomain: 'corp.example',
        serviceCIDR: '10.100.0.0/16',
        nodeName: 'cp-1',
        extraDNSNames: ['api.demo.example'],
        extraIPs: ['192.0.2.10'],
      });
    });

    it('chains each certificate to the CA it belongs to, and to no other', () => {
      const expected: [keyof ControlPlaneCertificates, keyof ClusterCertificates][] = [
        ['apiServer', 'ca'],
        ['apiServerKubeletClient', 'ca'],
        ['apiServerEtcdClient', 'etcd'],
        ['etcdServer', 'etcd'],
        ['etcdPeer', 'etcd'],
        ['frontProxyClient', 'proxy'],
      ];
      for (const [leaf, ca] of expected) {
        for (const other of ['ca', 'etcd', 'proxy'] as const) {
          expect(chainsTo(leaves[leaf].cert, certs[other].cert), `${leaf} issued by ${other}`).toBe(
            other === ca,
          );
        }
        expect(keyMatches(leaves[leaf].cert, leaves[leaf].key), `${leaf} key`).toBe(true);
        expect(parseCertificate(leaves[leaf].cert).isCA).toBe(false);
        expect(parseCertificate(leaves[leaf].cert).authorityKeyId).toBe(
          parseCertificate(certs[ca].cert).subjectKeyId,
        );
      }
    });

    it('gives the API server its names: loopback, the kubernetes service and the extras', () => {
      const info = parseCertificate(leaves.apiServer.cert);
      expect(info.commonName).toBe('kube-apiserver');
      expect(info.dnsNames).toEqual([
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.corp.example',
        'api.demo.example',
      ]);
      expect(info.ipAddresses).toEqual(['127.0.0.1', '10.100.0.1', '192.0.2.10']);
      const n = node(leaves.apiServer.cert);
      expect(n.checkHost('kubernetes.default.svc.corp.example')).toBe('kubernetes.default.svc.corp.example');
      expect(n.checkIP('127.0.0.1')).toBe('127.0.0.1');
      expect(n.checkIP('10.100.0.1')).toBe('10.100.0.1');
      expect(n.checkHost('evil.example')).toBeUndefined();
    });

    it('sets key usages: servers serve, clients authenticate, etcd members do both', () => {
      const usages = (pem: string) => parseCertificate(pem).extKeyUsages;
      expect(usages(leaves.apiServer.cert)).toEqual(['serverAuth']);
      expect(usages(leaves.apiServerEtcdClient.cert)).toEqual(['clientAuth']);
      expect(usages(leaves.apiServerKubeletClient.cert)).toEqual(['clientAuth']);
      expect(usages(leaves.frontProxyClient.cert)).toEqual(['clientAuth']);
      expect(usages(leaves.etcdServer.cert)).toEqual(['serverAuth', 'clientAuth']);
      expect(usages(leaves.etcdPeer.cert)).toEqual(['serverAuth', 'clientAuth']);
      for (const pair of Object.values(leaves)) {
        expect(parseCertificate(pair.cert).keyUsages).toEqual(['digitalSignature']);
      }
      // Node reports the extended key usages by OID.
      expect(node(leaves.apiServer.cert).keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    });

    it('names etcd members by machine, reachable on loopback', () => {
      const info = parseCertificate(leaves.etcdServer.cert);
      expect(info.commonName).toBe('cp-1');
      expect(info.dnsNames).toEqual(['localhost', 'cp-1']);
      expect(info.ipAddresses).toEqual(['127.0.0.1']);
      expect(parseCertificate(leaves.frontProxyClient.cert).commonName).toBe('front-proxy-client');
    });
  });

  it('issues the admin client certificate as kubernetes-admin in system:masters', async () => {
    const admin = await issueAdminCertificate(certs.ca);
    const info = parseCertificate(admin.cert);
    expect(info.commonName).toBe('kubernetes-admin');
    expect(info.organizations).toEqual(['system:masters']);
    expect(info.extKeyUsages).toEqual(['clientAuth']);
    expect(await isIssuedBy(admin.cert, certs.ca.cert)).toBe(true);
    expect(await isIssuedBy(admin.cert, certs.etcd.cert)).toBe(false);
    expect(node(admin.cert).subject).toContain('O=system:masters');
  });

  it('issues node client certificates as system:node:<name> in system:nodes', async () => {
    const info = parseCertificate((await issueNodeClientCertificate(certs.ca, 'worker-1')).cert);
    expect(info.commonName).toBe('system:node:worker-1');
    expect(info.organizations).toEqual(['system:nodes']);
  });
});

describe('certificate helpers', () => {
  it('takes the first address of a service CIDR as the kubernetes ClusterIP', () => {
    expect(firstServiceIP('10.96.0.0/12')).toBe('10.96.0.1');
    expect(firstServiceIP('10.96.5.7/12')).toBe('10.96.0.1');
    expect(firstServiceIP('172.20.0.0/16')).toBe('172.20.0.1');
    expect(() => firstServiceIP('10.96.0.0')).toThrow(/not an IPv4 CIDR/);
    expect(() => firstServiceIP('300.1.1.0/24')).toThrow(/not a usable/);
    expect(apiServerSANs({ serviceDomain: 'cluster.local', serviceCIDR: '10.0.0.0/24' }).ipAddresses).toEqual(
      ['127.0.0.1', '10.0.0.1'],
    );
  });

  it('signs with a CA key brought as PKCS#1 RSA or SEC1 EC PEM', async () => {
    const ca = await createCertificateAuthority({ commonName: 'imported' });
    const sec1 = createPrivateKey(ca.key).export({ format: 'pem', type: 'sec1' }) as string;
    expect(sec1).toMatch(/BEGIN EC PRIVATE KEY/);
    const leaf = await issueCertificate(
      { cert: ca.cert, key: sec1 },
      { commonName: 'x', usages: ['clientAuth'] },
    );
    expect(chainsTo(leaf.cert, ca.cert)).toBe(true);
    await expect(importSigningKey('not a key')).rejects.toThrow(/not a PEM private key/);
  });

  it('knows when a certificate is about to expire', async () => {
    const ca = await createCertificateAuthority({ commonName: 'short', validityDays: 10 });
    expect(expiresWithin(ca.cert, 24 * 3600 * 1000)).toBe(false);
    expect(expiresWithin(ca.cert, 11 * 24 * 3600 * 1000)).toBe(true);
  });

  it('refuses a certificate without a usage', async () => {
    const ca = await createCertificateAuthority({ commonName: 'c' });
    await expect(issueCertificate(ca, { commonName: 'x', usages: [] })).rejects.toThrow(/no usage/);
  });
});
