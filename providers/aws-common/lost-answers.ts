// A create whose answer was lost (the connection reset, a timeout, a 5xx) may have made its resource.
// The SDK would send it again blindly, and where AWS does not deduplicate (no ClientToken, or an
// emulator that ignores it) that makes a second resource, or gets a conflict about the first. So for
// creates such an error is not retried by the SDK: it reaches the reconcile as AnswerLost, and the
// reconcile's next pass looks for the resource (by ClientToken, owned tags or name) before creating.
// Throttling and 4xx answers are left alone: AWS refused the request, nothing was made.
import type { MiddlewareHost } from './clients.js';
import { answerWasLost } from './errors.js';

/** The operations that make a resource: RunInstances, CreateVpc, AllocateAddress, CreateCluster... */
const MAKES_A_RESOURCE = /^(Create|Run|Allocate)/;

interface WireError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * The error a create reports when its answer was lost. Its name is none of the SDK's retryable ones
 * and it carries no status, code or cause, so the SDK's retry strategy gives it back at once.
 */
export class AnswerLost extends Error {
  readonly Code = 'AnswerLost';
  constructor(
    readonly operation: string,
    /** What came instead of the answer: `ECONNRESET`, `InternalError (HTTP 500)`. */
    readonly instead: string,
  ) {
    super(`the answer to ${operation} was lost (${instead})`);
    this.name = 'AnswerLost';
  }
}

function described(err: WireError): string {
  const status = err.$metadata?.httpStatusCode;
  const code = err.code && err.code !== err.name ? err.code : (err.name ?? 'Error');
  return status ? `${code} (HTTP ${status})` : code;
}

/**
 * Installs the rule on one SDK client: inside the retry loop (the deserialize step, around the
 * parser), a lost answer to a create becomes AnswerLost.
 */
export function noBlindRetryOfCreates(client: MiddlewareHost): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      if (!MAKES_A_RESOURCE.test(operation)) return next(args);
      try {
        return await next(args);
      } catch (err) {
        if (answerWasLost(err)) throw new AnswerLost(operation, described(err as WireError));
        throw err;
      }
    },
    { step: 'deserialize', name: 'clusterforgeNoBlindRetryOfCreates', priority: 'high', override: true },
  );
}
