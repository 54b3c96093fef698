// What a process has cost so far, from /proc: CPU seconds (user + system) and peak resident memory.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ: 100 on every Linux build that matters). */
const TICKS_PER_SECOND = 100;

/** CPU seconds the process has used (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing ')' are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The process's peak resident set (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Math.round(Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** CPU seconds of several processes since the first call of the returned function. */
export function cpuMeter(pids: () => number[]): () => number {
  const start = new Map(pids().map((pid) => [pid, cpuSeconds(pid)]));
  return () => pids().reduce((sum, pid) => sum + cpuSeconds(pid) - (start.get(pid) ?? 0), 0);
}
