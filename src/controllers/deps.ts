// What every controller is given: the caches to read, the writer, the providers, the logger.
import type { Logger } from 'pino';
import type * as v1alpha1 from '../api/v1alpha1/index.js';
import type { ObjectWriter } from '../kube/writer.js';
import type { ProviderRegistry } from '../provider/registry.js';
import type { CertificateStore } from './common/certificates.js';
import type { Store } from './common/store.js';

export interface EventSink {
  normal(obj: { kind?: string; metadata: object }, reason: string, note: string): void;
  warning(obj: { kind?: string; metadata: object }, reason: string, note: string): void;
}

export interface ControllerDeps {
  clusters: Store<v1alpha1.Cluster>;
  controlPlanes: Store<v1alpha1.ControlPlane>;
  templates: Store<v1alpha1.MachineTemplate>;
  deployments: Store<v1alpha1.MachineDeployment>;
  machines: Store<v1alpha1.Machine>;
  writer: ObjectWriter;
  providers: ProviderRegistry;
  certificates: CertificateStore;
  events: EventSink;
  log: Logger;
}

export interface Result {
  requeueAfterMs?: number;
}

/** The shortest non-zero requeue wins, as in Cluster API's phase aggregation. */
export function soonest(...results: (Result | undefined)[]): Result {
  const delays = results.map((r) => r?.requeueAfterMs).filter((d): d is number => d !== undefined && d >= 0);
  return delays.length > 0 ? { requeueAfterMs: Math.min(...delays) } : {};
}

/** How often a provider-backed object is looked at again when nothing changes (drift repair). */
export const RESYNC_MS = 60_000;

/**
 * `ms` spread at random over ±10 %: objects listed together (a thousand at start-up) come back spread out
 * instead of in one burst per period, as client-go's wait.Jitter does for resyncs.
 */
export function jittered(ms: number, fraction = 0.1): number {
  return Math.round(ms * (1 - fraction + 2 * fraction * Math.random()));
}
