// The root pino logger: JSON lines on stdout, level from LOG_LEVEL, secrets redacted by path.
//
// Redaction is by key name at the top level and one or two levels down (pino's paths do not recurse),
// which covers how we log: `log.info({ secret }, ...)`, `log.debug({ cluster: { spec } }, ...)`. Never log a
// whole Secret, a kubeconfig or a request's headers on purpose; this is the safety net, not the rule.

import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import { serializeError } from './log-errors.js';

/** Keys whose values never reach a log line when they sit one or two levels down (`{ user: { token } }`). */
export const SECRET_KEYS = [
  'token',
  'bearerToken',
  'accessToken',
  'refreshToken',
  'key',
  'privateKey',
  'password',
  'secretAccessKey',
  'sessionToken',
  'kubeconfig',
  'data',
  'stringData',
  'caData',
  'clientKeyData',
  'keyData',
  'authorization',
  'Authorization',
  'cookie',
] as const;

/**
 * The subset also redacted at the top level. `key` and `data` are not: the runtime logs work-queue keys as
 * `{ key: 'ns/name' }`, and a top-level `data` is ours to choose; nested, they are a Secret's.
 */
export const TOP_LEVEL_SECRET_KEYS = SECRET_KEYS.filter((key) => key !== 'key' && key !== 'data');

/** pino redact paths. */
export const REDACT_PATHS: readonly string[] = [
  ...TOP_LEVEL_SECRET_KEYS,
  ...SECRET_KEYS.flatMap((key) => [`*.${key}`, `*.*.${key}`]),
  '*.tls.key',
  '*.*.tls.key',
  '*["tls.key"]',
  '*.*["tls.key"]',
  '*["client-key-data"]',
  '*.*["client-key-data"]',
  '*.headers.authorization',
  '*.headers.Authorization',
];

export const REDACTED = '[REDACTED]';

export interface LoggerFactoryOptions {
  /** Default: LOG_LEVEL, else `info`. */
  level?: string;
  /**
   * The `logger` field of every line (e.g. `clusterforge`), the key controller-runtime's zap logs use; `name`
   * and `namespace` are the object's a line is about (docs/cli.md, "The operator's logs").
   */
  name?: string;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** Fields on every line. */
  base?: Record<string, unknown>;
}

/** Creates the root logger. Children (`log.child({ controller })`) inherit level and redaction. */
export function createLogger(opts: LoggerFactoryOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? (process.env.LOG_LEVEL || 'info'),
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // `err` without a stack for an expected failure (src/runtime/log-errors.ts).
    serializers: { err: serializeError },
    base: { ...(opts.name ? { logger: opts.name } : {}), ...opts.base },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that writes nothing, for tests and libraries used without one. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
