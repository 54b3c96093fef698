// The scale bench's figures as text: one table across sizes, then the requests by verb and resource.
import { type Reading, total } from '../support.js';
import type { ScaleResult } from './run-size.js';

const s = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)} s`);

/** `verb resource` (and ` → code` when not 2xx) -> count, from clusterforge_api_requests_total label sets. */
function byVerbAndResource(r: Reading): Map<string, number> {
  const out = new Map<string, number>();
  for (const [labels, n] of r) {
    const verb = /verb="([^"]+)"/.exec(labels)?.[1] ?? '?';
    const resource = /resource="([^"]+)"/.exec(labels)?.[1] ?? '?';
    const code = /code="([^"]+)"/.exec(labels)?.[1] ?? '';
    // Conflicts and other refusals are writes that bought nothing: show them apart.
    const key = code.startsWith('2') || code === '' ? `${verb} ${resource}` : `${verb} ${resource} → ${code}`;
    out.set(key, (out.get(key) ?? 0) + n);
  }
  return out;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

function writes(r: Reading): number {
  let n = 0;
  for (const [key, v] of byVerbAndResource(r)) if (WRITES.has(key.split(' ')[0] as string)) n += v;
  return n;
}

export function scaleReport(results: ScaleResult[]): string[] {
  const rows: string[] = [];
  rows.push(
    '| N | created in | 50 % Ready | 90 % Ready | 100 % Ready | operator CPU | operator peak RSS | apiserver+etcd CPU | operator requests to Ready (writes/cluster) | floor | ratio to floor | idle req/cluster/h | restart → reconciled | delete → gone |',
  );
  rows.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const all =
      r.ready.p100 !== undefined
        ? s(r.ready.p100)
        : `${r.ready.count} Ready after ${r.ready.waitedSeconds.toFixed(0)} s`;
    const ratio = r.ready.p100 !== undefined ? `${(r.ready.p100 / r.floor.seconds).toFixed(1)}×` : '-';
    rows.push(
      `| ${r.clusters} | ${s(r.createSeconds)} | ${s(r.ready.p50)} | ${s(r.ready.p90)} | ${all} | ` +
        `${r.operatorCpuSeconds.toFixed(1)} s | ${r.operatorPeakRssMiB} MiB | ${r.controlPlaneCpuSeconds.toFixed(1)} s | ` +
        `${total(r.requestsToReady)} (${(writes(r.requestsToReady) / r.clusters).toFixed(1)}) | ` +
        `${s(r.floor.seconds)}, ${(r.floor.requests / r.clusters).toFixed(1)} writes/cluster | ${ratio} | ` +
        `${Number.isFinite(r.idle.perClusterPerHour) ? r.idle.perClusterPerHour.toFixed(2) : '-'} (${r.idle.minutes} min) | ${s(r.restart.seconds)} | ${s(r.delete.seconds)} |`,
    );
  }
  for (const r of results) {
    rows.push('', `N = ${r.clusters}: operator requests from create to all Ready, by verb and resource`);
    const sorted = [...byVerbAndResource(r.requestsToReady)].sort(
      ([a, x], [b, y]) => y - x || a.localeCompare(b),
    );
    for (const [key, n] of sorted) rows.push(`    ${key.padEnd(60)} ${n}`);
    const idle = [...byVerbAndResource(r.idle.requests)].sort(
      ([a, x], [b, y]) => y - x || a.localeCompare(b),
    );
    rows.push(`  idle window (${r.idle.minutes} min):${idle.length === 0 ? ' none' : ''}`);
    for (const [key, n] of idle) rows.push(`    ${key.padEnd(60)} ${n}`);
    const deleted = [...byVerbAndResource(r.delete.requests)].sort(
      ([a, x], [b, y]) => y - x || a.localeCompare(b),
    );
    rows.push(`  delete of all (${total(r.delete.requests)} requests):`);
    for (const [key, n] of deleted) rows.push(`    ${key.padEnd(60)} ${n}`);
    if (r.apiServerProfile)
      rows.push(
        '  kube-apiserver CPU profile (go tool pprof -top):',
        ...r.apiServerProfile.map((l) => `    ${l}`),
      );
  }
  rows.push(
    '',
    "Floor: one Ready cluster's objects and statuses, copied N times by one plain client (32 requests in flight), no operator.",
    'Targets (issue #10): 1,000 Ready ≤ 60 s and ≤ 3× the floor; peak RSS ≤ 300 MiB; idle ≤ 1 request/cluster/h; restart and delete of 1,000 ≤ 60 s.',
  );
  return rows;
}
