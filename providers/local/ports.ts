// Loopback TCP ports: allocated once per machine (and once per cluster for the load balancer) and
// kept in the state folder, so that a machine keeps its addresses across restarts.
import { connect, createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** `count` distinct free ports that are not in `taken` (ports recorded for other machines). */
export async function allocatePorts(count: number, taken: Iterable<number> = []): Promise<number[]> {
  const avoid = new Set(taken);
  const ports: number[] = [];
  for (let attempts = 0; ports.length < count; attempts++) {
    if (attempts > count * 50) throw new Error('could not allocate free loopback ports');
    const port = await freePort();
    if (!avoid.has(port)) {
      avoid.add(port);
      ports.push(port);
    }
  }
  return ports;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export async function isListening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host: LOOPBACK, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
