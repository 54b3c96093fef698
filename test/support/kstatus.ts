// Runs kstatus (sigs.k8s.io/cli-utils, what Flux's health checks compute) on an object: the Go tool in
// test/support/kstatus, built once per content by hack/kstatus.sh (`make kstatus`, a dependency of
// `make test`) and found again through it.
import { spawnSync } from 'node:child_process';

export interface KStatus {
  /** InProgress, Failed, Current, Terminating, NotFound or Unknown. */
  status: string;
  message: string;
}

let binary: string | undefined;

function kstatusBinary(): string {
  if (binary) return binary;
  const built = spawnSync('hack/kstatus.sh', { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`hack/kstatus.sh failed (${built.status}): ${built.stderr}`);
  binary = built.stdout.trim();
  return binary;
}

/** kstatus's verdict on one object, as Flux would read it. */
export function kstatus(obj: unknown): KStatus {
  const run = spawnSync(kstatusBinary(), { input: JSON.stringify(obj), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`kstatus failed (${run.status}): ${run.stderr}`);
  const [status = '', message = ''] = run.stdout.split('\n');
  return { status, message };
}
