// Writes the generated files of charts/clusterforge/ (chart.ts says which); `--check` fails when one is
// stale or when the chart holds a CRD that crds/ no longer has. Run after generate-crds.ts.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { packageRoot, packageVersion } from '../../package/root.js';
import { renderChartFiles } from './chart.js';

const root = packageRoot();
const chartDir = new URL('charts/clusterforge/', root);
const check = process.argv.includes('--check');
const files = renderChartFiles(root, packageVersion());
let stale = 0;
for (const { file, text } of files) {
  const path = new URL(file, chartDir);
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) continue;
  if (check) {
    console.error(`stale: charts/clusterforge/${file} (run make generate)`);
    stale++;
  } else {
    await mkdir(new URL('./', path), { recursive: true });
    await writeFile(path, text);
    console.log(`wrote charts/clusterforge/${file}`);
  }
}
const wanted = new Set(files.map((f) => f.file));
for (const f of await readdir(new URL('crds/', chartDir)).catch(() => [] as string[])) {
  if (wanted.has(`crds/${f}`)) continue;
  console.error(`extra: charts/clusterforge/crds/${f} is no CRD of crds/ (remove it)`);
  stale++;
}
if (stale > 0) process.exit(1);
