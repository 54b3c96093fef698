// Driving a cluster's lifecycle through an operator process that dies: at a named crash point
// (CLUSTERFORGE_CRASH_AT, src/crash/points.ts) or at seeded random moments. Whenever the operator
// dies it is started again without the switch, and every step must still converge; after each step
// the lifecycle's audit counts what exists (processes, instances) against what should.
import { readFile } from 'node:fs/promises';
import { CRASH_AT_ENV } from '../../../src/crash/points.js';
import type { OperatorProcess } from '../operator-process.js';

/** One thing a user does (apply, scale, delete) and the wait for its outcome (throws on timeout). */
export interface Step {
  name: string;
  act(): Promise<void>;
  settled(): Promise<void>;
}

export interface Lifecycle {
  steps: Step[];
  /** What is wrong after `step` has settled: duplicates, orphans, leaks (empty when all is well). */
  audit(step: string): Promise<string[]>;
}

/** Starts an operator with more environment; its output goes to `logFile`. */
export type StartOperator = (env: Record<string, string>) => OperatorProcess;

export interface Chaos {
  /** Kills still to make; decremented as they are made. */
  budget: number;
  /** How long the operator lives before the next kill (seeded). */
  nextDelayMs(): number;
}

export interface RunResult {
  /** Deaths of the operator (at the crash point, or by the chaos). */
  kills: number;
  /** What the audits found, each line prefixed by its step. */
  problems: string[];
}

/**
 * Runs every step of `lc` with an operator started by `start`: the first with `crashAt` armed (if
 * given), the ones after a death without it. With `chaos`, kills the operator at random moments.
 */
export async function runLifecycle(
  lc: Lifecycle,
  start: StartOperator,
  opts: { crashAt?: string; chaos?: Chaos } = {},
): Promise<RunResult> {
  let operator = start(opts.crashAt ? { [CRASH_AT_ENV]: opts.crashAt } : {});
  let kills = 0;
  const problems: string[] = [];
  let stepping = true;
  const restart = () => {
    kills++;
    operator = start({});
  };
  // The chaos: SIGKILL after a random life, as long as the budget lasts and a step is under way.
  const chaos = (async () => {
    const c = opts.chaos;
    while (c && stepping && c.budget > 0) {
      await new Promise((r) => setTimeout(r, c.nextDelayMs()));
      if (!stepping) break;
      c.budget--;
      await operator.kill('SIGKILL');
      restart();
    }
  })();
  try {
    for (const step of lc.steps) {
      await step.act();
      const settled = step.settled().then(() => 'settled' as const);
      for (;;) {
        const dead = operator.exited.then(() => 'dead' as const);
        if ((await Promise.race([settled, dead])) === 'settled') break;
        // Died on its own: at the armed crash point (the chaos restarts its own kills).
        if (!opts.chaos) restart();
        else await new Promise((r) => setTimeout(r, 50));
      }
      for (const p of await lc.audit(step.name)) problems.push(`${step.name}: ${p}`);
    }
  } finally {
    stepping = false;
    await chaos;
    await operator.kill('SIGTERM');
  }
  return { kills, problems };
}

/** Whether the operator's log says it died at `point` (the line points.ts writes before dying). */
export async function diedAt(logFile: string, point: string): Promise<boolean> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.includes(`crash point ${point}@`);
}
