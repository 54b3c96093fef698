// What Linux's /proc says about processes: command lines, liveness, parents. Everything the
// supervisor decides about a pid it decides from here, so that a pid the kernel has given to another
// program is never taken for ours.
import { readdirSync, readFileSync } from 'node:fs';

/** /proc/<pid>/cmdline as a list, or undefined when there is no such process. */
export function commandLineOf(pid: number): string[] | undefined {
  try {
    const parts = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (parts[parts.length - 1] === '') parts.pop();
    return parts;
  } catch {
    return undefined;
  }
}

function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may itself hold spaces and parentheses: read after the last one.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '', ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Whether a pid is alive; a zombie (exited, not yet reaped) is not. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== 'Z';
}

/** Whether pid is alive and runs exactly this command line. */
export function runsCommandLine(pid: number, argv: readonly string[]): boolean {
  if (!pidAlive(pid)) return false;
  const actual = commandLineOf(pid);
  return actual !== undefined && sameCommandLine(actual, argv);
}

function sameCommandLine(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}

/** This process and its ancestors: never to be signalled by a sweep. */
function selfAndAncestors(): Set<number> {
  const pids = new Set<number>([process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 64 && pid > 1 && !pids.has(pid); i++) {
    pids.add(pid);
    pid = statOf(pid)?.ppid ?? 0;
  }
  return pids;
}

export interface FoundProcess {
  pid: number;
  argv: string[];
}

/** Every live process but this one and its ancestors whose command line passes `keep`. */
function findProcesses(keep: (argv: string[]) => boolean): FoundProcess[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const skip = selfAndAncestors();
  const found: FoundProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (skip.has(pid)) continue;
    const argv = commandLineOf(pid);
    if (argv && argv.length > 0 && keep(argv) && pidAlive(pid)) found.push({ pid, argv });
  }
  return found;
}

/** Live processes whose command line is exactly argv (a start whose pid was never recorded). */
export function processesRunning(argv: readonly string[]): FoundProcess[] {
  return findProcesses((actual) => sameCommandLine(actual, argv));
}

/**
 * Live processes one of whose arguments is `dir`, lies under `dir/`, or ends in `=dir` / `=dir/...`
 * (so /x/dev does not match /x/dev2). This process and its ancestors are left out.
 */
export function processesUnder(dir: string): FoundProcess[] {
  const clean = dir.replace(/\/+$/, '');
  const mentions = (arg: string): boolean =>
    arg === clean ||
    arg.startsWith(`${clean}/`) ||
    arg.includes(`=${clean}/`) ||
    arg.endsWith(`=${clean}`) ||
    arg.includes(` ${clean}/`);
  return findProcesses((argv) => argv.some(mentions));
}
