// The operator as a process of its own, started as a user (or the Deployment) would, so that a test
// can kill it with SIGKILL in the middle of its work.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

const repo = new URL('../../', import.meta.url).pathname;

export interface OperatorProcess {
  child: ChildProcess;
  /** Resolves when it has exited. */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnOperator(opts: {
  kubeconfigPath: string;
  namespace: string;
  stateDir: string;
  logFile: string;
  /** More flags (e.g. --shards=3). */
  args?: string[];
  /** LOG_LEVEL; default info. */
  logLevel?: string;
  /** More environment (e.g. CLUSTERFORGE_CRASH_AT, the AWS emulator's). */
  env?: Record<string, string>;
}): OperatorProcess {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repo, 'src/cli/main.ts'),
      'operator',
      `--kubeconfig=${opts.kubeconfigPath}`,
      `--namespace=${opts.namespace}`,
      '--metrics-bind-address=127.0.0.1:0',
      ...(opts.args ?? []),
    ],
    {
      cwd: repo,
      env: {
        ...process.env,
        CLUSTERFORGE_STATE_DIR: opts.stateDir,
        LOG_LEVEL: opts.logLevel ?? 'info',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
