// Where the package's own files are (package.json, crds/, templates/, hack/kube-versions and the build
// scripts): in a checkout, or in the copy `npm install -g` made. Only node:fs and node:url, so that
// `clusterforge --version` loads nothing else.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let root: URL | undefined;

/**
 * The folder holding package.json: the nearest folder above this module whose package.json is
 * clusterforge's (src/package under tsx, dist/src/package when built, or a bundle's folder).
 */
export function packageRoot(): URL {
  if (root) return root;
  let dir = new URL('./', import.meta.url);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string };
      if (pkg.name === 'clusterforge') {
        root = dir;
        return dir;
      }
    } catch {
      // No package.json here (or not JSON): look further up.
    }
    const parent = new URL('../', dir);
    if (parent.href === dir.href) break;
    dir = parent;
  }
  throw new Error(`cannot find the clusterforge package folder above ${fileURLToPath(import.meta.url)}`);
}

/** packageRoot() as a path, without the trailing slash. */
export function packageDir(): string {
  return fileURLToPath(packageRoot()).replace(/\/$/, '');
}

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot()), 'utf8')) as { version: string };
  return pkg.version;
}

/** A git checkout has the Makefile; an installed package (package.json `files`) does not. */
export function isCheckout(): boolean {
  return existsSync(new URL('Makefile', packageRoot()));
}

/**
 * The command that builds what the local provider runs into the cache: the make target in a checkout,
 * the same script from the installed package otherwise (both ship it; they need Go).
 */
export function buildCommand(what: 'kube-assets' | 'node-images', args: string[] = []): string {
  if (isCheckout()) return `make ${what}`;
  return ['bash', `${packageDir()}/hack/${what}.sh`, ...args].join(' ');
}
