// The load balancer process on its own: real sockets, a real detached process.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocatePorts, isListening } from '../../../src/net/ports.js';
import { isRunning, type ProcessRecord, startDetached, stopRecorded } from '../../../src/supervisor/index.js';
import { killEverythingUnder, sleep } from './fixtures.js';

const script = fileURLToPath(new URL('../../../providers/local/lb-process.mjs', import.meta.url));

/** A server that answers every connection with its name and closes. */
async function namedServer(name: string, port: number): Promise<Server> {
  const server = createServer((socket) => {
    // The load balancer's probes connect and reset at once.
    socket.on('error', () => {});
    socket.end(name);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

async function ask(port: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}

async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}

describe('load balancer process', () => {
  let dir: string;
  let lb: ProcessRecord | undefined;
  const servers: Server[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clusterforge-lb-'));
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await stopRecorded(lb, { waitMs: 2_000 });
    killEverythingUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('skips a backend that refuses, follows changes to its config, and exits when the config is gone', async () => {
    const [listen, refused, a, b] = await allocatePorts(4);
    const config = join(dir, 'lb.json');
    const write = (backends: { name: string; port: number }[]) =>
      writeFileSync(
        config,
        JSON.stringify({
          listen: { host: '127.0.0.1', port: listen },
          backends: backends.map((x) => ({ ...x, host: '127.0.0.1' })),
        }),
      );
    servers.push(await namedServer('a', a as number));
    servers.push(await namedServer('b', b as number));

    write([
      { name: 'refused', port: refused as number },
      { name: 'a', port: a as number },
    ]);
    lb = startDetached('load balancer', [process.execPath, script, config], {
      logPath: join(dir, 'lb.log'),
    }).record;
    await eventually(() => isListening(listen as number), 10_000);
    for (let i = 0; i < 4; i++) expect(await ask(listen as number)).toBe('a');

    write([{ name: 'b', port: b as number }]);
    await eventually(async () => (await ask(listen as number)) === 'b', 5_000);
    for (let i = 0; i < 4; i++) expect(await ask(listen as number)).toBe('b');

    rmSync(config);
    await eventually(() => !isRunning(lb), 15_000);
  });
});
