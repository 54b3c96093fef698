// The files shipped with the package (package.json, crds/, templates/), apart from common.ts: `--version`
// reads package.json and should load nothing else.
import { readFileSync } from 'node:fs';

/**
 * The folder holding package.json, crds/ and templates/: the nearest folder above this module whose
 * package.json is clusterforge's (src/cli under tsx, dist/src/cli when built, or a bundle).
 */
export function packageRoot(): URL {
  let dir = new URL('./', import.meta.url);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string };
      if (pkg.name === 'clusterforge') return dir;
    } catch {
      // No package.json here: look further up.
    }
    const parent = new URL('../', dir);
    if (parent.href === dir.href) break;
    dir = parent;
  }
  throw new Error('cannot find the clusterforge package folder (with crds/ and templates/)');
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot()), 'utf8')) as { version: string };
  return pkg.version;
}
