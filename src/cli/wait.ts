// Waiting, with its logic kept pure so that it is tested without a cluster: what a Deployment's status
// says about its rollout (as `kubectl rollout status` reads it), what its pods say when it is stuck, and
// a poll loop with an injectable clock.
import { CliError, ExitCode } from './common.js';

export interface DeploymentCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface DeploymentLike {
  metadata: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: DeploymentCondition[];
  };
}

/** One look at something we wait for: finished, still going (with what to show), or failed for good. */
export type Step<T = void> =
  | { state: 'done'; value: T; message: string }
  | { state: 'waiting'; message: string }
  | { state: 'failed'; message: string; fix?: string };

/** Where a Deployment's rollout stands, in the words of `kubectl rollout status`. */
export function rolloutStep(d: DeploymentLike): Step {
  const name = d.metadata.name ?? 'the Deployment';
  const status = d.status;
  if (status?.observedGeneration === undefined) {
    return {
      state: 'waiting',
      message: `Deployment ${name} has no status yet (is kube-controller-manager running?)`,
    };
  }
  if ((d.metadata.generation ?? 0) > status.observedGeneration) {
    return {
      state: 'waiting',
      message: `waiting for the Deployment controller to observe ${name}'s new spec`,
    };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return {
      state: 'failed',
      message: `Deployment ${name} exceeded its progress deadline: ${progressing.message ?? ''}`.trim(),
      fix: `look at its pods: kubectl describe pods -l app.kubernetes.io/component=operator`,
    };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < want) {
    return { state: 'waiting', message: `${updated} of ${want} new replicas updated` };
  }
  if (total > updated) {
    return { state: 'waiting', message: `${total - updated} old replica(s) pending termination` };
  }
  if (available < updated) {
    return { state: 'waiting', message: `${available} of ${updated} updated replicas available` };
  }
  return {
    state: 'done',
    value: undefined,
    message: `Deployment ${name} rolled out (${available} available)`,
  };
}

export interface PodLike {
  metadata: { name?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name: string;
      state?: {
        waiting?: { reason?: string; message?: string };
        terminated?: { reason?: string; exitCode?: number };
      };
      restartCount?: number;
    }[];
  };
}

/** Container states that will not fix themselves soon: worth showing while we wait. */
const STUCK = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/** Why the operator's pods are not running, in a few words each (empty when nothing is stuck). */
export function podHints(pods: PodLike[]): string[] {
  const hints: string[] = [];
  for (const pod of pods) {
    const name = pod.metadata.name ?? 'pod';
    const unschedulable = pod.status?.conditions?.find(
      (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
    );
    if (unschedulable) hints.push(`pod ${name} cannot be scheduled: ${unschedulable.message ?? ''}`.trim());
    for (const c of pod.status?.containerStatuses ?? []) {
      const waiting = c.state?.waiting;
      if (waiting?.reason && STUCK.has(waiting.reason)) {
        hints.push(`pod ${name}: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`);
      }
    }
  }
  return hints;
}

export interface PollOptions<T> {
  /** What we wait for, for the timeout message ("the operator to roll out"). */
  what: string;
  check: () => Promise<Step<T>>;
  timeoutMs: number;
  intervalMs?: number;
  /** Called with each state's message (a progress display). */
  onStep?: (message: string) => void;
  /** Injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Shown with a timeout. */
  timeoutFix?: string;
  /** How the timeout reads in the message (default: timeoutMs as a duration). */
  timeoutLabel?: string;
}

/** Checks until done; a `failed` step or the timeout throws a CliError (exit codes 1 and 4). */
export async function pollUntil<T>(opts: PollOptions<T>): Promise<T> {
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const step = await opts.check();
    if (step.state === 'done') return step.value;
    if (step.state === 'failed') throw new CliError(step.message, ExitCode.failure, step.fix);
    last = step.message;
    opts.onStep?.(step.message);
    const left = deadline - now();
    if (left <= 0) {
      throw new CliError(
        `timed out after ${opts.timeoutLabel ?? formatDuration(opts.timeoutMs)} waiting for ${opts.what}; last: ${last}`,
        ExitCode.timeout,
        opts.timeoutFix,
      );
    }
    await sleep(Math.min(opts.intervalMs ?? 1000, left));
  }
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
