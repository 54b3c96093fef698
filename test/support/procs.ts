// Which processes on this machine mention a path in their command line: how a test proves that a
// cluster's etcd, kube-apiserver, load balancer and heart-beat processes are gone.
import { readdir, readFile } from 'node:fs/promises';

export async function processesMentioning(fragment: string): Promise<{ pid: number; cmdline: string }[]> {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      if (cmdline.includes(fragment)) found.push({ pid: Number(entry), cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** The children of a process, with their state (`Z` for a zombie nobody has waited for). */
export async function childrenOf(ppid: number): Promise<{ pid: number; comm: string; state: string }[]> {
  const found: { pid: number; comm: string; state: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split at the last ')'.
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, parent] = stat.slice(close + 2).split(' ');
      if (Number(parent) === ppid) {
        found.push({
          pid: Number(entry),
          comm: stat.slice(stat.indexOf('(') + 1, close),
          state: state ?? '',
        });
      }
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}
