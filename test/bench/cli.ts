// `npm run bench -- cli [runs]`: how long the CLI takes for a command, against kubectl doing the
// equivalent on the same kube-apiserver (issue #15: `get kubeconfig` within 2x kubectl). Each pair runs
// interleaved, once unmeasured first (kubectl fills its discovery cache then), then `runs` times each
// (default 21); the figure is the median wall time of the whole process. Bare `node -e 0` is printed
// too: the part of the CLI's time that no change to the CLI can remove. With GNU time (/usr/bin/time)
// each figure has the process's CPU time beside it: on a busy machine the wall times of short processes
// say more about the machine than about the command.
//
// CLUSTERFORGE_BENCH_CLI=path/to/bin/clusterforge.js measures another build (e.g. an older commit's).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

/** GNU time, when there: the CPU time a run took, which the machine's other load disturbs far less. */
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Sample {
  wallMs: number;
  /** User + system CPU time of the process (GNU time), or undefined without it. */
  cpuMs: number | undefined;
}

/** One run; a non-zero exit is an error (a bench of a failing command means nothing). */
async function timeOnce(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const out = join(tmpdir(), `clusterforge-bench-cli-${process.pid}.time`);
  const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%U %S', '-o', out, cmd, ...args]] : [cmd, args];
  const wallMs = await new Promise<number>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
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
  if (!GNU_TIME) return { wallMs, cpuMs: undefined };
  const [user, sys] = (await readFile(out, 'utf8')).trim().split(/\s+/).slice(-2).map(Number);
  await rm(out, { force: true });
  return { wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
}

/** "412 ms (cpu 230 ms)": the medians of a set of runs. */
function medians(samples: Sample[]): { wall: number; cpu: number | undefined; text: string } {
  const wall = median(samples.map((s) => s.wallMs));
  const cpus = samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
  const cpu = cpus.length > 0 ? median(cpus) : undefined;
  return {
    wall,
    cpu,
    text: `${wall.toFixed(0)} ms${cpu === undefined ? '' : ` (cpu ${cpu.toFixed(0)} ms)`}`,
  };
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
    const node: Sample[] = [];
    for (let i = 0; i < runs; i++) node.push(await timeOnce(process.execPath, ['-e', '0'], env));
    rows.push(`  node -e 0 (start-up floor of any node CLI): ${medians(node).text}`);
    for (const pair of pairs) {
      progress(`cli: ${pair.name}`);
      await warmUp(process.execPath, [cli, ...pair.clusterforge], env);
      await warmUp('kubectl', pair.kubectl, env);
      const ours: Sample[] = [];
      const theirs: Sample[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(await timeOnce(process.execPath, [cli, ...pair.clusterforge], env));
        theirs.push(await timeOnce('kubectl', pair.kubectl, env));
      }
      const [a, b] = [medians(ours), medians(theirs)];
      const ratio = a.wall / b.wall;
      const cpuRatio = a.cpu !== undefined && b.cpu ? `, cpu ${(a.cpu / b.cpu).toFixed(2)}x` : '';
      rows.push(
        `  clusterforge ${pair.name}: ${a.text}, kubectl ${b.text}: ${ratio.toFixed(2)}x${cpuRatio} ` +
          `(wall ${ratio <= TARGET_RATIO ? 'within' : 'over'} ${TARGET_RATIO}x) [${pair.note}]`,
      );
    }
    return rows;
  } finally {
    await kube.stop();
    await rm(home, { recursive: true, force: true });
  }
}
