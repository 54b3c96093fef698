// APISERVER_PROFILE_DIR=...: a CPU profile of the bench's own kube-apiserver while the clusters come up
// (its /debug/pprof, through the admin kubeconfig), and the top of it by `go tool pprof`. For finding
// where the API server's CPU goes; the figures in the table do not depend on it.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { run } from '../support.js';

export const apiServerProfileDir = (): string | undefined => process.env.APISERVER_PROFILE_DIR || undefined;

/** Records `seconds` of kube-apiserver CPU into DIR/apiserver-N.pprof; resolves to the file. */
export function profileApiServer(
  kubeconfigPath: string,
  dir: string,
  n: number,
  seconds: number,
): Promise<string> {
  const file = join(dir, `apiserver-${n}.pprof`);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kubectl',
      [
        `--kubeconfig=${kubeconfigPath}`,
        `--request-timeout=${seconds + 30}s`,
        'get',
        '--raw',
        `/debug/pprof/profile?seconds=${seconds}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout.pipe(createWriteStream(file));
    child.on('close', (code) =>
      code === 0 ? resolve(file) : reject(new Error(`kubectl get --raw pprof: exit ${code}`)),
    );
  });
}

/** The top `count` functions by their own CPU, as `go tool pprof -top` prints them. */
export async function profileTop(file: string, count = 15): Promise<string[]> {
  const out = await run('go', ['tool', 'pprof', '-top', `-nodecount=${count}`, file]);
  return out.trimEnd().split('\n');
}
