// Loopback TCP ports for the processes we start (the local provider's machines keep theirs for life,
// recorded in their state folder; the dev environment and the test harness use the same helpers).
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * Ports we hand out come from below the kernel's ephemeral range (ip_local_port_range, 32768-60999
 * by default): a port taken from that range with `listen(0)` can be grabbed by any outgoing
 * connection in the moment before etcd or kube-apiserver binds it, and a machine keeps its ports
 * for life, so such a collision would make its process fail on every start.
 */
const RANGE_LOW = 20_000;

function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > RANGE_LOW + 1_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Whether 127.0.0.1:port can be bound right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port on 127.0.0.1, below the ephemeral range, that was free a moment ago. */
export async function freePort(): Promise<number> {
  const high = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = RANGE_LOW + Math.floor(Math.random() * (high - RANGE_LOW));
    if (await bindable(port)) return port;
  }
  throw new Error(`could not find a free loopback port between ${RANGE_LOW} and ${high}`);
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
