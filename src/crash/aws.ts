// The AWS half of the crash points (points.ts): an SDK middleware that passes `aws:<Operation>` once
// AWS has answered a call, before the provider sees the answer. Added to a client only when a crash
// point is armed, so an unarmed operator's clients are what they were.
import { crashArmed, crashPointNamed } from './points.js';

/** What this needs of an SDK v3 client: its middleware stack. */
interface WithMiddleware {
  middlewareStack: {
    add: (
      mw: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      opts: { step: 'initialize'; name: string; override?: boolean },
    ) => void;
  };
}

/** For AwsClientFactoryOptions.onClient; undefined when no crash point is armed. */
export function awsCrashPoints(): ((client: object) => void) | undefined {
  if (!crashArmed) return undefined;
  return (client) => {
    (client as WithMiddleware).middlewareStack.add(
      (next, context) => async (args) => {
        const answer = await next(args);
        crashPointNamed(`aws:${String(context.commandName ?? '').replace(/Command$/, '')}`);
        return answer;
      },
      { step: 'initialize', name: 'clusterforgeCrashPoints', override: true },
    );
  };
}
