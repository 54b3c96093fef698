// How long one request may go unanswered. As client-go's transport (and so kubectl): a new connection
// must finish its TLS handshake within 10 s (Go's TLSHandshakeTimeout), whatever the request timeout,
// so a server that accepts connections and never answers is an error, not a hang; and, when a timeout is
// set, the answer must come within it.
import type { ClientRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** ETIMEDOUT: the CLI counts it among the failures to reach a server (exit code 5). */
function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { code: 'ETIMEDOUT' });
}

function duration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms} ms`;
}

/** A connection still being made: TCP not connected yet, or (TLS) its handshake not done. */
function establishing(socket: Socket): boolean {
  if (socket.connecting) return true;
  const tls = socket as Partial<TLSSocket>;
  return tls.encrypted === true && !/^(TLS|SSL)/.test(tls.getProtocol?.() ?? '');
}

/**
 * Ends `req` with an ETIMEDOUT error when its new connection is not up within `handshakeMs`, or when its
 * answer has not come, whole, within `timeoutMs` (0: no limit).
 */
export function applyDeadlines(
  req: ClientRequest,
  what: string,
  timeoutMs: number,
  handshakeMs = HANDSHAKE_TIMEOUT_MS,
): void {
  if (timeoutMs > 0) {
    // From the start of the request to the end of its answer, as kubectl's --request-timeout (Node's own
    // req.setTimeout counts idle time only, and restarts once the connection is up).
    const timer = setTimeout(
      () => req.destroy(timeoutError(`${what}: no answer within ${duration(timeoutMs)}`)),
      timeoutMs,
    );
    req.once('close', () => clearTimeout(timer));
  }
  req.on('socket', (socket: Socket) => {
    if (!establishing(socket)) return;
    const timer = setTimeout(
      () =>
        req.destroy(
          timeoutError(
            `${what}: the connection was accepted but not established (no TLS handshake) within ${duration(handshakeMs)}`,
          ),
        ),
      handshakeMs,
    );
    const done = () => clearTimeout(timer);
    socket.once((socket as Partial<TLSSocket>).encrypted ? 'secureConnect' : 'connect', done);
    socket.once('close', done);
    req.once('close', done);
  });
}
