// Telling a user what the Cluster's phase and lifecycle state became: an Event and a log line for each
// change against what the Cluster's status held before this reconcile (so a move the world made between
// two reconciles is told as well as one made by this reconcile's tasks). Failing is a warning.
import type { Logger } from 'pino';
import type { Cluster, ClusterPhase } from '../../api/v1alpha1/index.js';
import type { ControllerDeps } from '../deps.js';

export interface PhaseAfter {
  phase: ClusterPhase;
  state: string;
}

export function reportPhaseChange(
  deps: ControllerDeps,
  cluster: Cluster,
  after: PhaseAfter,
  failure: { reason: string; message: string } | undefined,
  log: Logger,
): void {
  const phase = cluster.status?.phase;
  const state = cluster.status?.lifecycle?.state;
  if (phase !== after.phase) {
    const from = phase ? `${phase} (${state ?? 'unknown'})` : 'none';
    const note = `phase ${from} -> ${after.phase} (${after.state})`;
    const fields = { from: phase, to: after.phase, fromState: state, state: after.state };
    if (after.phase === 'Failed') {
      log.warn({ ...fields, reason: failure?.reason, detail: failure?.message }, 'phase changed');
      deps.events.warning(
        cluster,
        'PhaseChanged',
        failure ? `${note}: ${failure.reason}: ${failure.message}` : note,
      );
    } else {
      log.info(fields, 'phase changed');
      deps.events.normal(cluster, 'PhaseChanged', note);
    }
  } else if (state !== after.state) {
    // A step within one phase (upgrading.controlPlane -> upgrading.workers, deleting.workers -> ...).
    log.info({ from: state, to: after.state, phase: after.phase }, 'lifecycle transition');
    deps.events.normal(cluster, 'Lifecycle', `${state ?? 'none'} -> ${after.state}`);
  }
}
