// The AWS API emulator of the test environment, on a free 127.0.0.1 port.
//
// It is moto's standalone server (`moto_server`, Python package moto[server]; `make aws-emulator`
// installs it). Callers get nothing but the endpoint URL, to hand to the AWS SDK as AWS_ENDPOINT_URL:
// no code may depend on which emulator answers (LocalStack serves the same API).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/net/ports.js';
import {
  guardDir,
  type ProcessHandle,
  removeGuardedDir,
  spawnTied,
  stopOnce,
  tailFile,
  waitReady,
} from '../../src/supervisor/index.js';

export interface AwsEmulator {
  /** http://127.0.0.1:<port>: set it as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  /** Stops the emulator and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** How long to wait for the emulator to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** The command to run. Default: MOTO_SERVER, else `moto_server` from PATH. */
  command?: string;
}

/** Starts `moto_server -H 127.0.0.1 -p <free port>`; resolves once it answers HTTP. */
export async function startMoto(opts: StartMotoOptions = {}): Promise<AwsEmulator> {
  const command = opts.command ?? process.env.MOTO_SERVER ?? 'moto_server';
  const dir = mkdtempSync(join(tmpdir(), 'clusterforge-aws-'));
  guardDir(dir);
  const logPath = join(dir, 'moto_server.log');
  let proc: ProcessHandle | undefined;
  const stop = stopOnce(async () => {
    await proc?.stop();
    removeGuardedDir(dir);
  });

  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const endpoint = `http://127.0.0.1:${port}`;
      proc = spawnTied('moto_server', command, ['-H', '127.0.0.1', '-p', String(port)], {
        logPath,
        cwd: dir,
        // Unbuffered, so that the log is complete if it has to be shown.
        env: { ...process.env, PYTHONUNBUFFERED: '1' },
      });
      try {
        await waitReady(
          async () => {
            // Any HTTP answer means the server is up; the emulator's own endpoints are not used.
            const res = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2000) });
            await res.arrayBuffer();
            return true;
          },
          { what: 'starting the AWS API emulator', timeoutMs: opts.startTimeoutMs ?? 60_000, process: proc },
        );
        return { endpoint, stop };
      } catch (err) {
        const info = proc.running() ? undefined : await proc.exited;
        if (info?.error && (info.error as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new Error(
            `the AWS API emulator '${command}' is not installed: run \`make aws-emulator\` ` +
              "(python3 -m pip install 'moto[server]'), or set MOTO_SERVER to its path.",
          );
        }
        if (attempt < 3 && info && /address already in use/i.test(tailFile(logPath))) continue;
        throw err;
      }
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
