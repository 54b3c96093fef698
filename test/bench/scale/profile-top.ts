// `npx tsx test/bench/scale/profile-top.ts FILE.cpuprofile [N]`: the N functions (default 5) with the
// most self time in a V8 CPU profile, as a share of the busy samples (all but V8's `(idle)`), and how
// busy the process was at all.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

const [file, count = '5'] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-top.ts FILE.cpuprofile [N]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] };
const byFunction = new Map<string, number>();
let all = 0;
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  all += hits;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
}
const idle = byFunction.get('(idle)') ?? 0;
byFunction.delete('(idle)');
const busy = all - idle;
console.log(`busy ${((100 * busy) / all).toFixed(1)} % of ${all} samples; of the busy ones:`);
const top = [...byFunction].sort(([, a], [, b]) => b - a).slice(0, Number(count));
for (const [key, hits] of top) console.log(`${((100 * hits) / busy).toFixed(1).padStart(5)} %  ${key}`);
