// How long a consumer's token lives, and when it is re-issued. The operator reads them from its
// environment, so a Deployment sets them without a new flag:
//   CLUSTERFORGE_CONSUMER_TOKEN_TTL   seconds, or a duration such as 90m, 24h (default 24h)
// The TokenRequest API refuses lifetimes under ten minutes, so shorter values are raised to that.

export interface PublishingOptions {
  /** The lifetime asked of the TokenRequest API (the API server may shorten it). */
  tokenTTLSeconds: number;
  /** A token is re-issued once it has lived this fraction of its life. */
  refreshAfter: number;
}

export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;
/** The TokenRequest API's own lower bound. */
export const MIN_TOKEN_TTL_SECONDS = 10 * 60;
export const REFRESH_AFTER = 2 / 3;
export const TOKEN_TTL_ENV = 'CLUSTERFORGE_CONSUMER_TOKEN_TTL';

const UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600 };

/** `600`, `600s`, `90m`, `24h` in seconds; undefined when the text is none of these. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+)\s*([smh]?)\s*$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

export function publishingOptions(env: NodeJS.ProcessEnv = process.env): PublishingOptions {
  const asked = env[TOKEN_TTL_ENV] ? parseDuration(env[TOKEN_TTL_ENV]) : undefined;
  return {
    tokenTTLSeconds: Math.max(MIN_TOKEN_TTL_SECONDS, asked ?? DEFAULT_TOKEN_TTL_SECONDS),
    refreshAfter: REFRESH_AFTER,
  };
}
