// The operator of the dev environment: this same CLI's `operator` command, detached, with its log in
// <dir>/operator.log and the local provider's state under <dir>/state. A running one is adopted when
// it answers /readyz and runs the code of this CLI; one of another build is replaced (the clusters'
// processes outlive it and are adopted by the new one), one that died is started again.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../net/ports.js';
import { adoptedHandle, isRunning, startDetached, stopRecorded, waitReady } from '../supervisor/index.js';
import { packageRoot } from './assets.js';
import { type DevPaths, type DevState, type OperatorRecord, writeState } from './state.js';

/** How to run this same CLI: the built one (bin/clusterforge.js), or the sources through tsx. */
export function selfCommand(): string[] {
  const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
  return fromSources
    ? [process.execPath, '--import', 'tsx', join(packageRoot, 'src', 'cli', 'main.ts')]
    : [process.execPath, join(packageRoot, 'bin', 'clusterforge.js')];
}

/** A hash of the code this CLI runs (dist/ when built, the sources under tsx). */
export function buildStamp(): string {
  const fromSources = fileURLToPath(import.meta.url).endsWith('.ts');
  const roots = fromSources
    ? [join(packageRoot, 'src'), join(packageRoot, 'providers')]
    : [join(packageRoot, 'dist', 'src'), join(packageRoot, 'dist', 'providers')];
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (/\.(m?js|ts)$/.test(entry) && !entry.endsWith('.d.ts')) {
        hash.update(relative(packageRoot, path));
        hash.update(readFileSync(path));
      }
    }
  };
  for (const root of roots) walk(root);
  return hash.digest('hex').slice(0, 16);
}

async function operatorReady(address: string): Promise<boolean> {
  const res = await fetch(`http://${address}/readyz`, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

export interface OperatorResult {
  record: OperatorRecord;
  how: 'started' | 'running' | 'restarted (it had stopped)' | 'restarted (the code was rebuilt)';
}

export async function ensureOperator(
  paths: DevPaths,
  state: DevState,
  timeoutMs: number,
): Promise<OperatorResult> {
  const build = buildStamp();
  let how: OperatorResult['how'] = 'started';
  if (state.operator && isRunning(state.operator)) {
    if (state.operator.build === build) {
      const address = state.operator.metricsAddress;
      await waitReady(() => operatorReady(address), {
        what: 'waiting for the operator',
        timeoutMs,
        process: adoptedHandle('operator', state.operator),
      });
      return { record: state.operator, how: 'running' };
    }
    // Another build: replace it (the clusters' processes outlive it and are adopted by the new one).
    await stopRecorded(state.operator, { graceMs: 15_000 });
    how = 'restarted (the code was rebuilt)';
  } else if (state.operator) {
    how = 'restarted (it had stopped)';
  }
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  mkdirSync(paths.providerState, { recursive: true, mode: 0o700 });
  const [command, ...prefix] = selfCommand() as [string, ...string[]];
  const proc = startDetached(
    'operator',
    [
      command,
      ...prefix,
      'operator',
      `--kubeconfig=${paths.kubeconfig}`,
      `--metrics-bind-address=${metricsAddress}`,
    ],
    {
      logPath: paths.operatorLog,
      // Under tsx, `--import tsx` is resolved from the working directory: the package's own.
      cwd: packageRoot,
      env: {
        ...process.env,
        CLUSTERFORGE_STATE_DIR: paths.providerState,
        LOG_LEVEL: process.env.LOG_LEVEL || 'info',
      },
    },
  );
  const record: OperatorRecord = { ...proc.record, metricsAddress, build };
  state.operator = record;
  writeState(paths, state);
  await waitReady(() => operatorReady(metricsAddress), {
    what: 'starting the operator',
    timeoutMs,
    process: proc,
  });
  return { record, how };
}
