// The crash walk shared by the local and aws-ec2 files: one `it` per crash point, each a whole
// lifecycle of a cluster of its own with the operator a separate process that kills itself at the
// point (CLUSTERFORGE_CRASH_AT), is started again without it, and must converge with a clean audit.
//
// `make test` walks a representative subset; CLUSTERFORGE_CRASH_WALK=all (`make test-crash`) walks
// every point of the table (src/crash/points.ts) the lifecycle reaches; a list of points, just those.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { processesUnder, signalGroup } from '../../../src/supervisor/index.js';
import { diedAt, type Lifecycle, runLifecycle } from '../../support/crash/driver.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, testKubeconfigPath } from '../../support/kube.js';
import { listObjects, waitFor } from '../../support/operator.js';
import { spawnOperator } from '../../support/operator-process.js';

/** `all`, or a comma-separated list of points to walk instead of the subset (to look at one). */
const WALK = process.env.CLUSTERFORGE_CRASH_WALK ?? '';

/** The points to walk: all of `every` for `all`, the ones named in the variable, else `subset`. */
export function pointsToWalk(every: string[], subset: string[]): string[] {
  if (WALK === 'all') return every;
  return WALK ? WALK.split(',').map((p) => p.trim()) : subset;
}

export interface WalkOptions {
  namespace: () => string;
  /** `<point>[@<n>]` values of CLUSTERFORGE_CRASH_AT, one `it` each. */
  points: string[];
  lifecycle: (ctx: { name: string; stateDir: string }) => Lifecycle;
  /** More environment for the operator (the image owners of the emulator's account, ...). */
  env?: () => Record<string, string>;
  timeoutMs: number;
}

export function walkCrashPoints(opts: WalkOptions): void {
  const kc = testKubeConfig();
  let stateDir = '';
  beforeAll(async () => {
    await installCRDs(kc);
    stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-crash-'));
  });
  afterAll(async () => {
    // What a failed point left: delete its Clusters with one more operator, then whatever still runs.
    const left = await listObjects(kc, 'clusters', opts.namespace());
    if (left.length > 0) {
      await kubectl(['delete', '-n', opts.namespace(), 'clusters.clusterforge.dev', '--all', '--wait=false']);
      const cleaner = spawnOperator({
        kubeconfigPath: testKubeconfigPath(),
        namespace: opts.namespace(),
        stateDir,
        logFile: join(stateDir, 'cleanup.log'),
        env: opts.env?.() ?? {},
      });
      await waitFor(
        'the clusters to be gone',
        async () => ((await listObjects(kc, 'clusters', opts.namespace())).length === 0 ? true : undefined),
        { timeoutMs: 120_000 },
      ).finally(() => cleaner.kill('SIGTERM'));
    }
    for (const p of processesUnder(stateDir)) signalGroup(p.pid, 'SIGKILL');
    await rm(stateDir, { recursive: true, force: true });
  });

  opts.points.forEach((crashAt, i) => {
    it(
      `converges with nothing doubled or left after a crash at ${crashAt}`,
      async () => {
        const point = crashAt.split('@')[0] as string;
        // At most 30 characters: a ControlPlane's name (<cluster>-control-plane) has 50.
        const name = `w${i}-${point.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`
          .slice(0, 30)
          .replace(/-$/, '');
        const logFile = join(stateDir, `${name}.log`);
        const start = (env: Record<string, string>) =>
          spawnOperator({
            kubeconfigPath: testKubeconfigPath(),
            namespace: opts.namespace(),
            stateDir,
            logFile,
            env: { ...opts.env?.(), ...env },
          });
        const result = await runLifecycle(opts.lifecycle({ name, stateDir }), start, { crashAt });
        // The point was reached: the operator said so and died once; then everything converged cleanly.
        expect(await diedAt(logFile, point)).toBe(true);
        expect(result.kills).toBe(1);
        expect(result.problems).toEqual([]);
      },
      opts.timeoutMs,
    );
  });
}
