// `npm run gen:crds`: writes crds/*.yaml from the zod schemas. `--check` fails when a file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCRDFiles } from './crd/render.js';

const crdDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crds');
const check = process.argv.includes('--check');
let stale = 0;
for (const { file, text } of renderCRDFiles()) {
  const path = join(crdDir, file);
  const current = await readFile(path, 'utf8').catch(() => '');
  if (current === text) continue;
  if (check) {
    console.error(`stale: crds/${file} (run make generate)`);
    stale++;
  } else {
    await writeFile(path, text);
    console.log(`wrote crds/${file}`);
  }
}
if (stale > 0) process.exit(1);
