// The map of the house (docs/development.md), enforced: a folder of src/ (and providers/) imports only
// from its own layer or the layers below it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** Lowest first. A folder may import from folders of its own rank or lower. */
const RANK: Record<string, number> = {
  api: 0,
  crash: 0,
  package: 0,
  net: 1,
  runtime: 1,
  supervisor: 1,
  templates: 1,
  etcd: 2,
  lifecycle: 2,
  provider: 2,
  kube: 3,
  pki: 3,
  providers: 4,
  publish: 4,
  controllers: 5,
  devenv: 5,
  operator: 6,
  cli: 7,
};

/** The folder of the map a path belongs to: providers/<any>, else src/<folder>. */
function folderOf(path: string): string {
  const [top, second] = path.split('/');
  return top === 'providers' ? 'providers' : (second ?? '');
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('layers', () => {
  const files = [...sources('src'), ...sources('providers')];

  it('knows the folder of every source file', () => {
    const unknown = [...new Set(files.map(folderOf))].filter((f) => !(f in RANK));
    expect(unknown).toEqual([]);
  });

  it('has no import from a higher layer', () => {
    const upward: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = relative(ROOT, normalize(join(ROOT, dirname(file), match[1] as string)));
        const [from, to] = [folderOf(file), folderOf(target)];
        if ((RANK[to] ?? -1) > (RANK[from] ?? -1)) upward.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
    expect(upward).toEqual([]);
  });
});
