// What every `clusterforge` command shares: exit codes, errors that carry their fix, the kubeconfig
// and namespace flags (resolved as kubectl resolves them), output formats and colours.
import { createRequire } from 'node:module';
import { styleText } from 'node:util';
import { Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Kubeconfig } from '../kube/kubeconfig/config.js';
import { connectionErrorCode, KubeApiError } from '../runtime/errors.js';
import { KubeClient } from '../runtime/transport.js';

export { packageRoot, packageVersion } from '../package/root.js';

/** The exit codes of every command; docs/cli.md lists them for users. */
export const ExitCode = {
  ok: 0,
  /** Anything not below: the API server refused a request, a provider error, a bug. */
  failure: 1,
  /** Bad flags or arguments, an unknown provider or flavour, a missing template or environment variable. */
  usage: 2,
  /** The named object (a Cluster, its kubeconfig Secret) does not exist. */
  notFound: 3,
  /** A --wait ran out of time. */
  timeout: 4,
  /** No kubeconfig, or the management cluster cannot be reached or refuses our credentials (401, 403). */
  unreachable: 5,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the user can act on: what went wrong, what to do about it, and the exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue = ExitCode.failure,
    /** One line (or a few) telling the user how to fix it. */
    readonly fix?: string,
  ) {
    super(message);
  }
}

// Besides the runtime's connection errors: a server whose certificate the kubeconfig does not trust.
const TLS_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

/** Turns anything thrown into a CliError: the exit code and the fix the user needs. */
export function toCliError(err: unknown, server?: string): CliError {
  if (err instanceof CliError) return err;
  const where = server ? ` at ${server}` : '';
  const kubeFix = 'check --kubeconfig, KUBECONFIG and --context (kubectl config current-context)';
  if (err instanceof KubeApiError) {
    if (err.code === 401)
      return new CliError(
        `the management cluster${where} refused the credentials of the kubeconfig (401 Unauthorized)`,
        ExitCode.unreachable,
        kubeFix,
      );
    if (err.code === 403)
      return new CliError(
        `forbidden: ${err.message}`,
        ExitCode.unreachable,
        'use a kubeconfig whose user may do this (kubectl auth can-i ...)',
      );
    if (err.code === 404) return new CliError(err.message, ExitCode.notFound);
    return new CliError(err.message, ExitCode.failure);
  }
  const code = (err as { code?: unknown })?.code;
  if (connectionErrorCode(err) || (typeof code === 'string' && TLS_ERRORS.has(code))) {
    return new CliError(
      `cannot reach the management cluster${where}: ${(err as Error).message}`,
      ExitCode.unreachable,
      `is it running? ${kubeFix}`,
    );
  }
  if (code === 'ENOENT' && /kube/i.test(String((err as Error).message))) {
    return new CliError((err as Error).message, ExitCode.unreachable, kubeFix);
  }
  return new CliError(err instanceof Error ? err.message : String(err), ExitCode.failure);
}

/** The server connect() found: an error that does not say where it happened is told it. */
let connectedServer: string | undefined;

/** Prints the error and its fix on stderr and sets the exit code. */
export function reportError(command: string, err: unknown, server?: string): ExitCodeValue {
  const e = toCliError(err, server ?? connectedServer);
  const tty = Boolean(process.stderr.isTTY);
  const prefix = `clusterforge ${command}:`;
  process.stderr.write(`${tty ? paint('red', prefix, process.stderr) : prefix} ${e.message}\n`);
  if (e.fix) process.stderr.write(`  fix: ${e.fix.split('\n').join('\n       ')}\n`);
  process.exitCode = e.exitCode;
  return e.exitCode;
}

/** Wraps a command's action: any error becomes one message with its fix on stderr and an exit code. */
export function action<A extends unknown[]>(
  command: string,
  fn: (...args: A) => Promise<void> | void,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      reportError(command, err);
    }
  };
}

/**
 * Usage errors (an unknown flag, a missing argument, a bad value) exit with ExitCode.usage; --help exits 0.
 * Commander's own default is 1 for all of them. Applied to a command and its sub-commands.
 */
export function usageExits(cmd: Command): Command {
  cmd.exitOverride((err: CommanderError) => {
    process.exit(err.exitCode === 0 ? ExitCode.ok : ExitCode.usage);
  });
  cmd.showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) usageExits(sub);
  return cmd;
}

/** The help text's example lines, each a command line: `Example:` or `Examples:`, indented below. */
export function examples(...lines: string[]): string {
  return `\n${lines.length === 1 ? 'Example' : 'Examples'}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/** A verb whose one sub-command names what it acts on (`delete cluster`, `get kubeconfig`). */
export function verbCommand(verb: string, description: string, sub: Command, example: string): Command {
  return usageExits(
    new Command(verb).description(description).addHelpText('after', examples(example)).addCommand(sub),
  );
}

// ---------------------------------------------------------------------------------------------------
// Flags

export interface KubeFlags {
  kubeconfig?: string;
  context?: string;
  /** Milliseconds; 0 or absent: no limit. */
  requestTimeout?: number;
}

/** --kubeconfig, --context and --request-timeout, as kubectl has them. */
export function withKubeFlags(cmd: Command): Command {
  return cmd
    .option(
      '--kubeconfig <file>',
      'kubeconfig of the management cluster (default: KUBECONFIG, then ~/.kube/config, then in-cluster)',
    )
    .option('--context <name>', 'kubeconfig context to use (default: its current context)')
    .option(
      '--request-timeout <duration>',
      'how long to wait for an answer to one request before giving up (5s, 2m; 0: no limit)',
      parseRequestTimeout,
      0,
    );
}

/** kubectl's --request-timeout values: 0, a bare number of seconds, or a duration such as 5s or 2m. */
export function parseRequestTimeout(text: string): number {
  return /^0+(\.0*)?(ms|s|m|h)?$/.test(text.trim()) ? 0 : parseDuration(text);
}

/** -n/--namespace, defaulting (as kubectl does) to the context's namespace, else `default`. */
export function namespaceOption(): Option {
  return new Option(
    '-n, --namespace <ns>',
    "namespace of the cluster (default: the context's, else default)",
  );
}

export function resolveNamespace(kc: Kubeconfig, flag: string | undefined): string {
  if (flag) return flag;
  const context = kc.getContextObject(kc.getCurrentContext());
  return context?.namespace || 'default';
}

/**
 * A Kubeconfig and a KubeClient for the management cluster; a failure to find one is exit code 5.
 * @kubernetes/client-node's KubeConfig is not loaded: only the operator asks for it (kc.toClientNode()).
 */
export async function connect(
  flags: KubeFlags,
): Promise<{ kc: Kubeconfig; client: KubeClient; server: string }> {
  const { loadKubeConfig } = await import('./kubeconfig.js');
  const kc = loadKubeConfig(flags);
  const client = new KubeClient(kc, { userAgent: 'clusterforge-cli', timeoutMs: flags.requestTimeout ?? 0 });
  connectedServer = client.server;
  return { kc, client, server: client.server };
}

/** 90s, 5m, 1h, 1500ms; a bare number is seconds. For commander's argParser. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`'${text}' is not a duration (write e.g. 90s, 5m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? 1000;
  const ms = Number(match[1]) * unit;
  if (ms <= 0) throw new InvalidArgumentError('the duration must be more than zero');
  return ms;
}

/** true/false for flags like --wait=false. */
export function parseBoolean(text: string): boolean {
  if (/^(true|1|yes)$/i.test(text)) return true;
  if (/^(false|0|no)$/i.test(text)) return false;
  throw new InvalidArgumentError(`'${text}' is not true or false`);
}

/** A whole number of at least `min`, for commander's argParser. */
export function wholeNumber(min: number) {
  return (text: string): number => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`'${text}' is not a whole number of at least ${min}`);
    return n;
  };
}

export type OutputFormat = 'json' | 'yaml';

/** -o/--output with the given choices. */
export function outputOption(choices: string[], description: string): Option {
  return new Option('-o, --output <format>', description).choices(choices);
}

/** Objects as JSON (a v1 List when there are several) or as multi-document YAML. */
export function formatObjects(objects: object[], format: OutputFormat): string {
  if (format === 'json') {
    const body = objects.length === 1 ? objects[0] : { apiVersion: 'v1', kind: 'List', items: objects };
    return `${JSON.stringify(body, null, 2)}\n`;
  }
  const { stringify } = requireYaml();
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

// yaml is 73 modules: required on the first -o yaml, not at every start of the CLI (issue #15).
const requireYaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml');

// ---------------------------------------------------------------------------------------------------
// Colours, on a terminal only (and never with NO_COLOR set)

export type Colour = 'red' | 'green' | 'yellow' | 'gray' | 'bold' | 'cyan';

export function colourEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export function paint(colour: Colour, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return colourEnabled(stream) ? styleText(colour, text) : text;
}

/** "5s", "3m", "2h", "4d": the age of a timestamp, as kubectl prints it. */
export function age(timestamp: string | undefined, now = Date.now()): string {
  if (!timestamp) return '';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
