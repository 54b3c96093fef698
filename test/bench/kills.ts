// `npm run bench -- kills [seed]`: the operator killed with SIGKILL at seeded random moments, over
// and over, through local lifecycles (create, scale to 3 control-plane machines and 2 simulated
// workers, delete) and aws-ec2 lifecycles against the AWS API emulator (create, scale, delete),
// until each provider has taken its share of the kills. After every step the lifecycle's audit
// (test/support/crash/) counts duplicates (a second process for one Machine and role, a second
// instance for one Machine) and leaks (anything left after the delete). Prints the figures; the
// deterministic walk over every named crash point is `make test-crash`.
//
// Runs on its own (a kube-apiserver, etcd and emulator of its own); the operator runs from source
// (tsx), as the integration tests start it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE_OWNERS_ENV } from '../../providers/aws-ec2/services/images.js';
import { WORKLOAD_KUBECONFIG_ENV } from '../../providers/aws-ec2/workload-from-env.js';
import { kubectlOk } from '../../src/devenv/kubectl.js';
import { processesUnder, signalGroup } from '../../src/supervisor/index.js';
import { awsEmulatorEnv } from '../env/global-setup.js';
import { startKubeEnv } from '../env/kube-env.js';
import { startMoto } from '../env/moto.js';
import { type Lifecycle, runLifecycle } from '../support/crash/driver.js';
import { ec2Lifecycle } from '../support/crash/ec2.js';
import { localLifecycle } from '../support/crash/local.js';
import { spawnOperator } from '../support/operator-process.js';
import { prepareImage } from './aws-ec2.js';
import { progress, repo } from './support.js';

/** Kills per provider: together at least the hundred the issue asks for. */
const KILLS_PER_PROVIDER = 55;
/** How long an operator lives before it is killed: from its spawn (the tsx start takes ~2 s). */
const LIFE_MS = { min: 2_000, max: 8_000 };

/** mulberry32: a small seeded generator, so that a run can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Tally {
  lifecycles: number;
  kills: number;
  duplicates: string[];
  leaks: string[];
  seconds: number;
}

export async function benchKills(seed: number): Promise<string[]> {
  const random = seeded(seed);
  const [kube, moto] = await Promise.allSettled([startKubeEnv(), startMoto()]);
  const stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-kills-'));
  const rows: string[] = [];
  try {
    if (kube.status === 'rejected') throw kube.reason;
    if (moto.status === 'rejected') throw moto.reason;
    const env = kube.value;
    const aws = { ...awsEmulatorEnv(moto.value.endpoint), AWS_EC2_METADATA_DISABLED: 'true' };
    Object.assign(process.env, aws);
    const imageOwner = await prepareImage();
    const kubectl = (args: string[]) => kubectlOk(env.kubeconfigPath, args);
    await kubectl(['apply', '--server-side', '-f', join(repo, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(repo, 'crds')]);

    const run = async (provider: 'local' | 'aws-ec2'): Promise<Tally> => {
      const namespace = `kills-${provider}`;
      await kubectl(['create', 'namespace', namespace]);
      const tally: Tally = { lifecycles: 0, kills: 0, duplicates: [], leaks: [], seconds: 0 };
      const started = performance.now();
      while (tally.kills < KILLS_PER_PROVIDER) {
        const name = `k${tally.lifecycles}`;
        const args = { kc: env.kubeConfig, kubeconfigPath: env.kubeconfigPath, namespace, name };
        const lc: Lifecycle =
          provider === 'local'
            ? localLifecycle({ ...args, stateDir, timeoutMs: 300_000 })
            : ec2Lifecycle({ ...args, version: 'v1.37.2', timeoutMs: 300_000 });
        const start = (extra: Record<string, string>) =>
          spawnOperator({
            kubeconfigPath: env.kubeconfigPath,
            namespace,
            stateDir,
            logFile: join(stateDir, `${namespace}.log`),
            env: {
              ...aws,
              [IMAGE_OWNERS_ENV]: imageOwner,
              [WORKLOAD_KUBECONFIG_ENV]: env.kubeconfigPath,
              ...extra,
            },
          });
        const chaos = {
          budget: KILLS_PER_PROVIDER - tally.kills,
          nextDelayMs: () => LIFE_MS.min + random() * (LIFE_MS.max - LIFE_MS.min),
        };
        const result = await runLifecycle(lc, start, { chaos });
        tally.lifecycles++;
        tally.kills += result.kills;
        for (const p of result.problems) (/left|orphan/.test(p) ? tally.leaks : tally.duplicates).push(p);
        progress(
          `kills ${provider}: lifecycle ${name} done, ${tally.kills} kills so far, ${result.problems.length} problems`,
        );
      }
      tally.seconds = (performance.now() - started) / 1000;
      return tally;
    };
    const tallies = { local: await run('local'), 'aws-ec2': await run('aws-ec2') };
    let kills = 0;
    for (const [provider, t] of Object.entries(tallies)) {
      kills += t.kills;
      rows.push(
        `kills ${provider} (seed ${seed}): ${t.kills} kills over ${t.lifecycles} lifecycles in ${t.seconds.toFixed(0)} s; ` +
          `${t.duplicates.length} duplicates, ${t.leaks.length} leaks`,
      );
      for (const p of [...t.duplicates, ...t.leaks]) rows.push(`  ${p}`);
    }
    rows.push(`kills total: ${kills}`);
  } finally {
    for (const p of processesUnder(stateDir)) signalGroup(p.pid, 'SIGKILL');
    await Promise.allSettled([
      kube.status === 'fulfilled' ? kube.value.stop() : undefined,
      moto.status === 'fulfilled' ? moto.value.stop() : undefined,
    ]);
    await rm(stateDir, { recursive: true, force: true });
  }
  return rows;
}
