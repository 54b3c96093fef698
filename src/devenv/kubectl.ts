// Runs the `kubectl` on the PATH, as a user would. Used where kubectl does what our typed client
// cannot (server-side apply of CRDs: client-node's serializer drops their x-kubernetes-* keys) and to
// show a user what kubectl itself shows.
import { spawn } from 'node:child_process';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class KubectlMissingError extends Error {
  constructor() {
    super(
      'kubectl is not on the PATH; install it (https://kubernetes.io/docs/tasks/tools/), then run this again',
    );
    this.name = 'KubectlMissingError';
  }
}

export interface KubectlRunOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  /** Kill kubectl after this long. Default 120 s. */
  timeoutMs?: number;
  /** kubectl's environment. Default: this process's. */
  env?: NodeJS.ProcessEnv;
}

/** Runs kubectl with --kubeconfig; never throws for a non-zero exit (check `code`), only when it cannot run. */
export function kubectl(
  kubeconfig: string,
  args: string[],
  opts: KubectlRunOptions = {},
): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', [`--kubeconfig=${kubeconfig}`, ...args], {
      env: opts.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new KubectlMissingError() : error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Like kubectl(), but a non-zero exit is an error carrying kubectl's stderr. */
export async function kubectlOk(
  kubeconfig: string,
  args: string[],
  opts: KubectlRunOptions = {},
): Promise<string> {
  const result = await kubectl(kubeconfig, args, opts);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(' ')} failed (exit ${result.code}):\n${result.stderr.trim()}`);
  }
  return result.stdout;
}
