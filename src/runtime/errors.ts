// Typed errors of the controller runtime.
//
// A reconciler says how a failure should be retried by the class of what it throws:
// - TransientError: the world is not ready yet or a call failed; requeue with per-key exponential back-off
//   (or after `requeueAfterMs` when the reconciler knows better).
// - TerminalError: retrying cannot help (bad input, a refused request); the reconciler records the reason in
//   status, and the key is not requeued until the object changes again.
// Any other thrown value is treated as transient.

/** A failure that a later attempt may not see: requeue the key with back-off. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  /** When set, requeue after exactly this long instead of after the per-key back-off. */
  readonly requeueAfterMs: number | undefined;

  constructor(message: string, options: { cause?: unknown; requeueAfterMs?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.requeueAfterMs = options.requeueAfterMs;
  }
}

/** A failure that retrying cannot fix: do not requeue; the reconciler records `reason` and the message in status. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  /** A CamelCase reason for a condition or an Event, e.g. `InvalidSpec`. */
  readonly reason: string;

  constructor(reason: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

/** A non-2xx answer of the Kubernetes API server, with the fields of its `Status` body when it sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  /** The HTTP status code (or `Status.code` of a watch ERROR event). */
  readonly code: number;
  /** `Status.reason`, e.g. `NotFound`, `Conflict`, `Expired`, `Gone`. */
  readonly reason: string | undefined;
  readonly verb: string;
  readonly path: string;

  constructor(code: number, verb: string, path: string, message: string, reason?: string) {
    super(`${verb} ${path}: ${code}${reason ? ` ${reason}` : ''}: ${message}`);
    this.code = code;
    this.verb = verb;
    this.path = path;
    this.reason = reason;
  }
}

/** The connection ended before the answer did: ECONNRESET, so that logs and the CLI treat it as a network failure. */
export function connectionDropped(message: string): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

export const isTransientError = (err: unknown): err is TransientError => err instanceof TransientError;
export const isTerminalError = (err: unknown): err is TerminalError => err instanceof TerminalError;

/** True for a KubeApiError (or any error carrying a numeric `code`) with the given HTTP status. */
export function hasStatusCode(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export const isNotFound = (err: unknown): boolean => hasStatusCode(err, 404);
export const isConflict = (err: unknown): boolean => hasStatusCode(err, 409);
export const isGone = (err: unknown): boolean => hasStatusCode(err, 410);

/** Node's codes for a server that cannot be reached or dropped the connection. */
const CONNECTION_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** The code of a Node error that says the server could not be reached or dropped the connection. */
export function connectionErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && CONNECTION_ERROR_CODES.has(code) ? code : undefined;
}
