// Where the binaries of a Kubernetes version are (etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kubelet; a folder counts only with all of them):
// ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/clusterforge}/kube/<version>/ (what
// `make kube-assets` builds), or $KUBEBUILDER_ASSETS when its kube-apiserver reports that version.
import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildCommand } from '../../src/package/root.js';

export interface KubeBinaries {
  dir: string;
  version: string;
  etcd: string;
  kubeApiServer: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubelet: string;
}

export type BinaryLookup = { found: true; binaries: KubeBinaries } | { found: false; message: string };

export function kubeCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.CLUSTERFORGE_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'clusterforge');
  return join(base, 'kube');
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// `kube-apiserver --version` by path and modification time: asked once per binary.
const reportedVersions = new Map<string, Promise<string | undefined>>();

function reportedVersion(kubeApiServer: string): Promise<string | undefined> {
  let key: string;
  try {
    key = `${kubeApiServer}@${statSync(kubeApiServer).mtimeMs}`;
  } catch {
    return Promise.resolve(undefined);
  }
  let version = reportedVersions.get(key);
  if (!version) {
    version = new Promise((resolve) => {
      execFile(kubeApiServer, ['--version'], { timeout: 30_000 }, (err, stdout) => {
        resolve(err ? undefined : /v\d+\.\d+\.\d+\S*/.exec(stdout)?.[0]);
      });
    });
    reportedVersions.set(key, version);
  }
  return version;
}

function binariesIn(dir: string, version: string): KubeBinaries | undefined {
  const binaries: KubeBinaries = {
    dir,
    version,
    etcd: join(dir, 'etcd'),
    kubeApiServer: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubeScheduler: join(dir, 'kube-scheduler'),
    kubelet: join(dir, 'kubelet'),
  };
  const { dir: _dir, version: _version, ...paths } = binaries;
  return Object.values(paths).every(executable) ? binaries : undefined;
}

/** The binaries for `version`, or a sentence saying where none were found. */
export async function findBinaries(
  version: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<BinaryLookup> {
  const fromEnv = env.KUBEBUILDER_ASSETS;
  if (fromEnv) {
    const candidate = binariesIn(fromEnv, version);
    if (candidate && (await reportedVersion(candidate.kubeApiServer)) === version) {
      return { found: true, binaries: candidate };
    }
  }
  const dir = join(kubeCacheRoot(env), version);
  const cached = binariesIn(dir, version);
  if (cached) return { found: true, binaries: cached };
  return {
    found: false,
    message: `no etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubelet for ${version} in ${dir}; run ${buildCommand('kube-assets', [version])}${
      fromEnv ? ` (KUBEBUILDER_ASSETS=${fromEnv} holds another version, or not all of them)` : ''
    }`,
  };
}
