// The API server's own words for a failed call, for conditions and logs.
import { ApiException } from '@kubernetes/client-node';

export function apiMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as unknown;
    let parsed: unknown = body;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = { message: body };
      }
    }
    const message = (parsed as { message?: unknown })?.message;
    if (typeof message === 'string') return message;
  }
  return err instanceof Error ? err.message : String(err);
}
