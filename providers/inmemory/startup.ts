// When a simulated machine becomes Ready: `startupDelaySeconds` after it was created. Pure, from the
// Machine's creationTimestamp, so the answer survives an operator restart.

/**
 * Milliseconds until a machine created at `creationTimestamp` is Ready; 0 once it is. The timestamp
 * has whole seconds (the real creation may be up to a second later), so a non-zero delay gets one
 * second more: a machine is never Ready before `delaySeconds` have truly passed.
 */
export function startupRemainingMs(
  creationTimestamp: string | undefined,
  delaySeconds: number,
  now: Date = new Date(),
): number {
  if (delaySeconds <= 0) return 0;
  const created = Date.parse(creationTimestamp ?? '');
  // Not yet stored (no timestamp): count from now, the earliest it can have been created.
  const start = Number.isNaN(created) ? now.getTime() : created;
  return Math.max(0, start + (delaySeconds + 1) * 1000 - now.getTime());
}
