// The waits the two AWS sections (aws-ec2.ts, aws-eks.ts) share, and how long they count idle calls.

/** src/controllers/cluster/controller.ts READY_RESYNC_MS (not exported there). */
const CLUSTER_READY_RESYNC_MS = 5 * 60_000;

/** How long an AWS section waits for Ready and for gone. */
export const AWS_DEADLINE_MS = 240_000;

/** After Ready, before the idle window opens: the last status writes of provisioning settle. */
export const AWS_SETTLE_MS = 30_000;

/**
 * An AWS section's idle window: BENCH_AWS_IDLE_MINUTES, else the longest of the Ready Cluster's
 * resync and the section's own periodic looks, plus a minute, so that each of them falls into it
 * at least once whatever its phase.
 */
export function awsIdleWindowMs(periodicLooksMs: number[], env: NodeJS.ProcessEnv = process.env): number {
  const minutes = Number(env.BENCH_AWS_IDLE_MINUTES);
  if (minutes > 0) return minutes * 60_000;
  return Math.max(CLUSTER_READY_RESYNC_MS, ...periodicLooksMs) + 60_000;
}
