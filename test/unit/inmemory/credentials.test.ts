// The in-memory provider's admin certificate: signed by the cluster's CA, issued once per cluster
// UID and handed out again from memory, issued anew for another CA or once forgotten.
import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AdminCredentials } from '../../../providers/inmemory/credentials.js';
import { createCertificateAuthority, keyMatches, parseCertificate } from '../../../src/pki/index.js';
import type { KeyPair } from '../../../src/provider/contract.js';

const verifies = (cert: string, ca: string) => {
  const leaf = new X509Certificate(cert);
  const issuer = new X509Certificate(ca);
  return leaf.checkIssued(issuer) && leaf.verify(issuer.publicKey);
};

describe('AdminCredentials', () => {
  let ca: KeyPair;
  let otherCA: KeyPair;
  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'kubernetes' });
    otherCA = await createCertificateAuthority({ commonName: 'kubernetes' });
  });

  it('issues a system:masters client certificate that the cluster CA verifies', async () => {
    const admin = await new AdminCredentials().get('uid-1', ca);
    expect(verifies(admin.cert, ca.cert)).toBe(true);
    expect(verifies(admin.cert, otherCA.cert)).toBe(false);
    expect(keyMatches(admin.cert, admin.key)).toBe(true);
    const info = parseCertificate(admin.cert);
    expect(info.extKeyUsages).toContain('clientAuth');
    expect(info.organizations).toEqual(['system:masters']);
  });

  it('hands out the same certificate on every call for one cluster, also when asked at once', async () => {
    const creds = new AdminCredentials();
    const [a, b] = await Promise.all([creds.get('uid-1', ca), creds.get('uid-1', ca)]);
    expect(b.cert).toBe(a.cert);
    expect((await creds.get('uid-1', ca)).cert).toBe(a.cert);
    expect(creds.size).toBe(1);
    expect((await creds.get('uid-2', ca)).cert).not.toBe(a.cert);
    expect(creds.size).toBe(2);
  });

  it('issues anew when the CA changed, and after forget', async () => {
    const creds = new AdminCredentials();
    const first = await creds.get('uid-1', ca);
    const moved = await creds.get('uid-1', otherCA);
    expect(moved.cert).not.toBe(first.cert);
    expect(verifies(moved.cert, otherCA.cert)).toBe(true);
    creds.forget('uid-1');
    expect(creds.size).toBe(0);
    expect((await creds.get('uid-1', otherCA)).cert).not.toBe(moved.cert);
  });
});
