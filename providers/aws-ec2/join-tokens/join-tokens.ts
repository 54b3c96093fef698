// Per-machine join tokens, as Cluster API's kubeadm bootstrap provider makes them: before a joining
// machine's instance is launched, a bootstrap token Secret for it is made in the workload cluster's
// kube-system (its user data is immutable after RunInstances, so the token must exist first); while
// the machine has no Node the token's expiration is pushed forward; once its Node is registered, or
// the Machine is deleted, the Secret is deleted. The first control-plane machine (kubeadm init) has
// no API to write to yet: its InitConfiguration carries a random token with the same short TTL.
//
// Crash safety: the Secret is the record. It is made before the launch and found again by the
// Machine's label, so a pass after a crash reuses it instead of minting a second token; a crash
// after RunInstances finds the instance by its tags and needs no token at all.
import type { Logger } from 'pino';
import type { Machine } from '../../../src/api/v1alpha1/index.js';
import { crashPoint } from '../../../src/crash/points.js';
import { apiMessage } from '../../../src/kube/errors.js';
import { inProgress, type MachineContext, type Progress } from '../../../src/provider/contract.js';
import type { KubeClient } from '../../../src/runtime/transport.js';
import type { BootstrapRole } from '../userdata.js';
import {
  expiryAt,
  needsRenewal,
  newBootstrapToken,
  tokenSecret,
  tokenSecretName,
  tokenString,
} from './token.js';
import {
  createTokenSecret,
  deleteTokenSecret,
  machineTokens,
  nodeRegistered,
  renewTokenSecret,
} from './workload.js';

/** The token a machine about to be launched joins with, or why it waits for one (one machine's view). */
export interface TokenSource {
  /** kubeadm's duration for init's token. */
  ttl: string;
  forLaunch(role: BootstrapRole): Promise<{ token: string } | { progress: Progress }>;
}

/** The label value that names a Machine: its UID (label-safe; a re-made Machine is another one). */
function labelOf(machine: Machine): string {
  const m = machine.metadata;
  return m.uid ?? `${m.namespace}.${m.name}`.slice(0, 63);
}

export class JoinTokens {
  /** Machines (by label) this process knows have no token Secret left: nothing more to look at. */
  private readonly settled = new Set<string>();

  constructor(
    private readonly client: (ctx: MachineContext) => Promise<KubeClient>,
    readonly ttlMs: number,
  ) {}

  /**
   * The token a machine about to be launched carries in its user data: its Secret's (made now, or
   * found from an earlier pass and extended), or for `init` a fresh one. A Progress when the
   * workload API does not answer: a joining machine needs the control plane up anyway.
   */
  async forLaunch(
    ctx: MachineContext,
    role: BootstrapRole,
    log: Logger,
  ): Promise<{ token: string } | { progress: Progress }> {
    const label = labelOf(ctx.machine);
    if (role === 'init') {
      this.settled.add(label);
      return { token: tokenString(newBootstrapToken()) };
    }
    const name = ctx.machine.metadata.name as string;
    try {
      const client = await this.client(ctx);
      const now = new Date();
      const found = (await machineTokens(client, label))[0];
      this.settled.delete(label);
      if (found) {
        if (needsRenewal(found.expiration, now, this.ttlMs)) {
          await renewTokenSecret(client, found.name, expiryAt(now, this.ttlMs));
        }
        return { token: tokenString(found.token) };
      }
      const token = newBootstrapToken();
      await createTokenSecret(client, tokenSecret(token, { name, label }, expiryAt(now, this.ttlMs)));
      crashPoint('workload-create:bootstrap-token');
      log.info({ secret: `kube-system/${tokenSecretName(token.id)}` }, 'made the join token');
      return { token: tokenString(token) };
    } catch (err) {
      return {
        progress: inProgress(
          `waiting for the workload cluster's API to hold machine ${name}'s join token (a bootstrap token Secret in kube-system): ${apiMessage(err)}`,
          15_000,
        ),
      };
    }
  }

  /**
   * For a launched machine: deletes its token once its Node is registered, else extends it when
   * due. Never holds the machine back: a token that lapses while the API cannot be reached only
   * keeps a machine that has not joined by then from joining (a health check replaces it).
   */
  async tend(ctx: MachineContext, providerID: string, log: Logger): Promise<void> {
    const label = labelOf(ctx.machine);
    if (this.settled.has(label)) return;
    try {
      const client = await this.client(ctx);
      const tokens = await machineTokens(client, label);
      if (tokens.length > 0 && (await nodeRegistered(client, providerID))) {
        for (const t of tokens) await deleteTokenSecret(client, t.name);
        log.info({ secrets: tokens.map((t) => t.name) }, 'machine joined; deleted its join token');
      } else if (tokens.length > 0) {
        const now = new Date();
        for (const t of tokens) {
          if (!needsRenewal(t.expiration, now, this.ttlMs)) continue;
          await renewTokenSecret(client, t.name, expiryAt(now, this.ttlMs));
          log.debug({ secret: t.name }, 'extended the join token');
        }
        return;
      }
      this.settled.add(label);
    } catch (err) {
      log.warn({ detail: apiMessage(err) }, "could not look after the machine's join token");
    }
  }

  /**
   * Deletes the machine's token Secrets (the Machine is being deleted). One try: a cluster being
   * deleted may not answer any more, and the token's expiry bounds what a leftover could do.
   */
  async remove(ctx: MachineContext, log: Logger): Promise<void> {
    const label = labelOf(ctx.machine);
    if (this.settled.has(label)) return;
    this.settled.add(label);
    try {
      const client = await this.client(ctx);
      const tokens = await machineTokens(client, label);
      for (const t of tokens) await deleteTokenSecret(client, t.name);
      if (tokens.length > 0) log.info({ secrets: tokens.map((t) => t.name) }, 'deleted the join token');
    } catch (err) {
      log.warn(
        { detail: apiMessage(err) },
        "could not delete the machine's join token; it expires on its own",
      );
    }
  }
}
