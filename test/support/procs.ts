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
