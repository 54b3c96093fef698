// One pod of the demo's workload answering, asked as a user would: `kubectl port-forward` to it for
// a moment and an HTTP GET on the forwarded local port (pod IPs are not routed from the host, and the
// API server's pod proxy cannot reach them either). When the forward fails, `kubectl exec` runs the
// image's own client in the pod instead, and the answer says so.
import { spawn } from 'node:child_process';
import { kubectl } from './kubectl.js';

export interface Answer {
  /** What the pod said, trimmed: `hello from <pod> (...)`. */
  text: string;
  via: 'kubectl port-forward' | 'kubectl exec';
  /** Why the port-forward did not do, when exec answered instead. */
  forwardError?: string;
}

/** Forwards a free local port to the pod's port; resolves with the body of GET / there. */
export function getThroughPortForward(
  kubeconfig: string,
  pod: string,
  port: number,
  timeoutMs = 15_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'kubectl',
      [`--kubeconfig=${kubeconfig}`, 'port-forward', '--address=127.0.0.1', `pod/${pod}`, `:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (err: Error | undefined, body?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL'); // a forward holds nothing worth a graceful stop
      if (err) reject(err);
      else resolve(body as string);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${timeoutMs / 1000} s${stderr ? `: ${stderr.trim()}` : ''}`)),
      timeoutMs,
    );
    child.on('error', (err) => finish(err));
    child.on('close', (code) =>
      finish(new Error(`kubectl port-forward exited (${code}): ${stderr.trim() || stdout.trim()}`)),
    );
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const local = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(stdout)?.[1];
      if (!local || settled) return;
      stdout = ''; // ask once
      fetch(`http://127.0.0.1:${local}/`, { signal: AbortSignal.timeout(timeoutMs) })
        .then(async (res) => {
          const body = await res.text();
          if (!res.ok) throw new Error(`HTTP ${res.status}: ${body.trim()}`);
          finish(undefined, body);
        })
        .catch((err: Error) => finish(err));
    });
  });
}

async function getThroughExec(kubeconfig: string, pod: string, port: number): Promise<string> {
  const res = await kubectl(kubeconfig, ['exec', pod, '--', '/hello', 'get', `http://127.0.0.1:${port}/`], {
    timeoutMs: 15_000,
  });
  if (res.code !== 0) throw new Error(`kubectl exec: ${res.stderr.trim() || `exit ${res.code}`}`);
  return res.stdout;
}

export async function askPod(kubeconfig: string, pod: string, port: number): Promise<Answer> {
  try {
    return { text: (await getThroughPortForward(kubeconfig, pod, port)).trim(), via: 'kubectl port-forward' };
  } catch (err) {
    const forwardError = (err as Error).message;
    try {
      return {
        text: (await getThroughExec(kubeconfig, pod, port)).trim(),
        via: 'kubectl exec',
        forwardError,
      };
    } catch (execErr) {
      throw new Error(
        `pod ${pod} does not answer: port-forward: ${forwardError}; ${(execErr as Error).message}`,
      );
    }
  }
}
