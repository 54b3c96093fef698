// The AWS half of the crash points (points.ts): an SDK middleware that passes `aws:<Operation>` once
// AWS has answered a call, before the provider sees the answer. Added to a client only when a crash
// point is armed, so an unarmed operator's clients are what they were.
import { crashArmed, crashPointNamed } from './points.js';

type Handler = (args: unknown) => Promise<unknown>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
/** The one thing used of an SDK v3 client (the factory types its clients; this file needs no SDK). */
type Stack = { middlewareStack: { add(mw: Middleware, where: { step: 'initialize'; name: string }): void } };

/** For AwsClientFactoryOptions.onClient; undefined when no crash point is armed. */
export function awsCrashPoints(): ((client: object) => void) | undefined {
  if (!crashArmed) return undefined;
  return (client) => {
    (client as Stack).middlewareStack.add(
      (next, context) => async (args) => {
        const answer = await next(args);
        crashPointNamed(`aws:${String(context.commandName ?? '').replace(/Command$/, '')}`);
        return answer;
      },
      { step: 'initialize', name: 'clusterforgeCrashPoints' },
    );
  };
}
