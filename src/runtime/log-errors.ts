// The `err` of a log line. An expected, well-understood failure (the API server refused or did not
// answer, a 5xx, 429 or 409, a retry a reconciler asked for) is logged by its message and code: its stack
// only says which line of the transport noticed, and 40 of them drown the one that matters. Anything
// else (a TypeError, a bug) keeps its stack.
import { ApiException } from '@kubernetes/client-node';
import { pino } from 'pino';
import { connectionErrorCode, KubeApiError, TerminalError, TransientError } from './errors.js';

/** An answer of an API server: ours (KubeApiError) or @kubernetes/client-node's; `code` is the HTTP status. */
function isApiAnswer(err: unknown): err is Error & { code: number } {
  return err instanceof KubeApiError || err instanceof ApiException;
}

/** Names of the errors an AbortSignal's timeout or abort rejects with. */
const ABORT_NAMES = new Set(['AbortError', 'TimeoutError']);

/** The `err` of a line without a stack. */
export interface ExpectedErrorLog {
  type: string;
  message: string;
  code?: string | number;
  reason?: string;
  /** The error this one wraps, serialized by the same rule (a bug under it keeps its stack). */
  cause?: unknown;
}

/** True for a failure whose stack tells nothing: a known network or API error, or one a reconciler threw on purpose. */
export function isExpectedError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (isApiAnswer(err) || err instanceof TransientError || err instanceof TerminalError) return true;
  if (ABORT_NAMES.has(err.name)) return true;
  return connectionErrorCode(err) !== undefined;
}

function expected(err: Error, depth: number): ExpectedErrorLog {
  const out: ExpectedErrorLog = { type: err.constructor?.name || err.name, message: err.message };
  const { code, reason } = err as { code?: unknown; reason?: unknown };
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if (typeof reason === 'string') out.reason = reason;
  if (depth < 3 && err.cause instanceof Error) out.cause = errorLog(err.cause, depth + 1);
  return out;
}

function errorLog(err: unknown, depth: number): unknown {
  if (err instanceof Error && isExpectedError(err)) return expected(err, depth);
  return pino.stdSerializers.err(err as Error);
}

/** pino's `err` serializer: pino's own (with `stack`) for a bug, `{ type, message, code, reason }` for an expected failure. */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  return errorLog(err, 0);
}

/**
 * True when `err` (or what it wraps) says the API server could not be reached or is overloaded (a
 * connection error, 5xx, 429): a failure of the whole component, not of one object.
 */
export function isUnreachableError(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (isApiAnswer(e)) return e.code >= 500 || e.code === 429;
    if (connectionErrorCode(e) !== undefined) return true;
  }
  return false;
}
