// Where the kube-apiserver and etcd binaries of a local Kubernetes environment come from.
//
// KUBEBUILDER_ASSETS (the envtest convention) wins when it is set and no other version is asked for;
// otherwise the per-version cache that `make kube-assets` (hack/kube-assets.sh) fills:
//   ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/clusterforge}/kube/<version>/

import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildCommand, packageDir } from '../package/root.js';

/** The root of the clusterforge package: the checkout, or the installed copy (src/package/root.ts). */
export const packageRoot: string = packageDir();

const BINARIES = ['etcd', 'kube-apiserver'] as const;

export interface KubeAssets {
  /** The folder holding `etcd` and `kube-apiserver`. */
  dir: string;
  /** The Kubernetes version of the kube-apiserver in that folder, e.g. v1.37.2. */
  version: string;
  etcd: string;
  kubeApiServer: string;
}

/** The versions in hack/kube-versions, newest (the default) first. */
export function kubeVersions(): string[] {
  const file = join(packageRoot, 'hack', 'kube-versions');
  const versions = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (versions.length === 0) throw new Error(`${file} lists no Kubernetes version`);
  return versions;
}

/** The default version: the first line of hack/kube-versions. */
export function defaultKubeVersion(): string {
  return kubeVersions()[0] as string;
}

/** The cache root that hack/kube-assets.sh builds into. */
export function kubeCacheRoot(): string {
  const base =
    process.env.CLUSTERFORGE_CACHE ||
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'clusterforge');
  return join(base, 'kube');
}

function missingBinaries(dir: string): string[] {
  return BINARIES.filter((bin) => {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

function assetsIn(dir: string, version: string): KubeAssets {
  return { dir, version, etcd: join(dir, 'etcd'), kubeApiServer: join(dir, 'kube-apiserver') };
}

/**
 * The cached binaries of one version. Throws, telling how to build them, when they are missing.
 */
export function assetsFor(version: string): KubeAssets {
  if (!/^v1\.\d+\.\d+$/.test(version)) {
    throw new Error(`not a Kubernetes release: '${version}' (want v1.MINOR.PATCH, as in hack/kube-versions)`);
  }
  const dir = join(kubeCacheRoot(), version);
  const missing = missingBinaries(dir);
  if (missing.length > 0) {
    throw new Error(
      `Kubernetes ${version} binaries are missing (${missing.join(', ')} not found in ${dir}). ` +
        `Run \`${buildCommand('kube-assets', [version])}\` to build them once (with Go), ` +
        'or set KUBEBUILDER_ASSETS to a folder that holds etcd and kube-apiserver.',
    );
  }
  return assetsIn(dir, version);
}

/** The version a kube-apiserver binary reports (`kube-apiserver --version` prints "Kubernetes v1.x.y"). */
export function apiServerVersion(kubeApiServer: string): string {
  const out = execFileSync(kubeApiServer, ['--version'], { encoding: 'utf8', timeout: 30_000 }).trim();
  const match = /v\d+\.\d+\.\d+\S*/.exec(out);
  if (!match) throw new Error(`cannot read the version of ${kubeApiServer} from '${out}'`);
  return match[0];
}

/**
 * The binaries to run.
 * - No version asked: KUBEBUILDER_ASSETS when set (it must hold etcd and kube-apiserver), else the cache
 *   of the default version.
 * - A version asked: KUBEBUILDER_ASSETS when set and its kube-apiserver is that version, else the cache
 *   of that version (so an upgrade test asking for the older version gets it).
 */
export function resolveKubeAssets(version?: string): KubeAssets {
  const fromEnv = process.env.KUBEBUILDER_ASSETS;
  if (fromEnv) {
    const missing = missingBinaries(fromEnv);
    if (missing.length > 0) {
      throw new Error(
        `KUBEBUILDER_ASSETS=${fromEnv} must contain the executables etcd and kube-apiserver; ` +
          `missing: ${missing.join(', ')}. Unset it to use the binaries built by \`${buildCommand('kube-assets')}\`.`,
      );
    }
    const envAssets = assetsIn(fromEnv, '');
    const actual = apiServerVersion(envAssets.kubeApiServer);
    if (version === undefined || version === actual) return { ...envAssets, version: actual };
  }
  return assetsFor(version ?? defaultKubeVersion());
}
