// The admin client certificate of each simulated cluster, signed by the cluster's CA as for a real
// one, and kept in memory per cluster UID: issued once, not on every reconcile that asks for it.
import { expiresWithin, issueAdminCertificate } from '../../src/pki/index.js';
import type { KeyPair } from '../../src/provider/contract.js';

/** Re-issue a cached certificate when it has less than this left (it is valid for a year). */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;

interface Entry {
  /** The CA certificate it was signed by: another CA (a recreated Secret) means issue again. */
  caCert: string;
  admin: KeyPair;
}

export class AdminCredentials {
  private readonly byUID = new Map<string, Promise<Entry>>();

  /** The cluster's admin key pair, issued from `ca` on the first call for this UID (or CA). */
  async get(uid: string, ca: KeyPair): Promise<KeyPair> {
    const cached = this.byUID.get(uid);
    if (cached) {
      const entry = await cached.catch(() => undefined);
      if (entry && entry.caCert === ca.cert && !expiresWithin(entry.admin.cert, RENEW_BEFORE_MS)) {
        return entry.admin;
      }
    }
    // The promise is cached, so concurrent reconciles of one cluster share one issue.
    const issuing = issueAdminCertificate(ca).then((admin) => ({ caCert: ca.cert, admin }));
    this.byUID.set(uid, issuing);
    issuing.catch(() => {
      if (this.byUID.get(uid) === issuing) this.byUID.delete(uid);
    });
    return (await issuing).admin;
  }

  forget(uid: string): void {
    this.byUID.delete(uid);
  }

  /** How many clusters have a certificate cached (tests). */
  get size(): number {
    return this.byUID.size;
  }
}
