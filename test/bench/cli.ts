// `npm run bench -- cli [runs]`: how long the CLI takes for a command, against kubectl doing the
// equivalent on the same kube-apiserver (issue #15: `get kubeconfig` within 2x kubectl). Each pair runs
// interleaved, once unmeasured first (kubectl fills its discovery cache then), then `runs` times each
// (default 21); the figure is the median wall time of the whole process. Bare `node -e 0` is printed
// too: the part of the CLI's time that no change to the CLI can remove.
//
// CLUSTERFORGE_BENCH_CLI=path/to/bin/clusterforge.js measures another build (e.g. an older commit's).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeEnv } from '../env/kube-env.js';
import { progress, repo, run, sleep } from './support.js';

const TARGET_RATIO = 2;

interface Pair {
  name: string;
  clusterforge: string[];
  kubectl: string[];
  /** What kubectl does instead, when it is not the same request(s). */
  note: string;
}

/** One run's wall time in ms; a non-zero exit is an error (a bench of a failing command means nothing). */
function timeOnce(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
    });
  });
}

/** The unmeasured first run, tried again while the server still answers 429 for new CRDs' storage. */
async function warmUp(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await timeOnce(cmd, args, env);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

function runsFrom(arg: string | undefined): number {
  const runs = Number(arg ?? '21');
  if (!Number.isInteger(runs) || runs < 1 || runs > 500)
    throw new Error(`cli bench: runs must be a whole number from 1 to 500; got '${arg}'`);
  return runs;
}

export async function benchCli(runsArg?: string): Promise<string[]> {
  const runs = runsFrom(runsArg);
  const cli = process.env.CLUSTERFORGE_BENCH_CLI || join(repo, 'bin', 'clusterforge.js');
  const home = await mkdtemp(join(tmpdir(), 'clusterforge-bench-cli-'));
  progress('cli: starting kube-apiserver and etcd');
  const kube = await startKubeEnv();
  try {
    // Both read the same kubeconfig from a flag; HOME is empty but for kubectl's discovery cache.
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, NO_COLOR: '1' };
    delete env.KUBECONFIG;
    const kc = `--kubeconfig=${kube.kubeconfigPath}`;
    const kubectl = (args: string[], input?: string) => run('kubectl', [kc, ...args], input);
    await kubectl(['apply', '--server-side', '-f', join(repo, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '-f', join(repo, 'crds')]);
    const yaml = await run(process.execPath, [
      cli,
      'generate',
      'cluster',
      'bench',
      '--infrastructure',
      'inmemory',
    ]);
    await kubectl(['apply', '-f', '-'], yaml);
    // What the operator would publish: the Secret get kubeconfig reads.
    const value = join(home, 'value');
    await writeFile(value, `# bench\n${await kubectl(['config', 'view', '--raw'])}`);
    await kubectl(['create', 'secret', 'generic', 'bench-kubeconfig', `--from-file=value=${value}`]);

    const pairs: Pair[] = [
      {
        name: 'get kubeconfig bench',
        clusterforge: ['get', 'kubeconfig', 'bench', kc],
        kubectl: ['get', 'secret', 'bench-kubeconfig', '-o', 'jsonpath={.data.value}', kc],
        note: 'kubectl get secret -o jsonpath (one GET each)',
      },
      {
        name: 'describe cluster bench',
        clusterforge: ['describe', 'cluster', 'bench', kc],
        kubectl: ['describe', 'clusters.clusterforge.dev', 'bench', kc],
        note: 'kubectl describe clusters.clusterforge.dev (one object and its events; ours: the cluster and its parts)',
      },
      {
        name: '--version',
        clusterforge: ['--version'],
        kubectl: ['version', '--client'],
        note: 'kubectl version --client (no request)',
      },
    ];
    const rows = [
      `cli bench: median wall time of ${runs} runs each, interleaved, against one kube-apiserver ${kube.version} (target: at most ${TARGET_RATIO}x kubectl)`,
      `  cli: ${cli}`,
    ];
    const node: number[] = [];
    for (let i = 0; i < runs; i++) node.push(await timeOnce(process.execPath, ['-e', '0'], env));
    rows.push(`  node -e 0 (start-up floor of any node CLI): ${median(node).toFixed(0)} ms`);
    for (const pair of pairs) {
      progress(`cli: ${pair.name}`);
      await warmUp(process.execPath, [cli, ...pair.clusterforge], env);
      await warmUp('kubectl', pair.kubectl, env);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(await timeOnce(process.execPath, [cli, ...pair.clusterforge], env));
        theirs.push(await timeOnce('kubectl', pair.kubectl, env));
      }
      const ratio = median(ours) / median(theirs);
      rows.push(
        `  clusterforge ${pair.name}: ${median(ours).toFixed(0)} ms, kubectl ${median(theirs).toFixed(0)} ms: ` +
          `${ratio.toFixed(2)}x (${ratio <= TARGET_RATIO ? 'within' : 'over'} ${TARGET_RATIO}x) [${pair.note}]`,
      );
    }
    return rows;
  } finally {
    await kube.stop();
    await rm(home, { recursive: true, force: true });
  }
}
