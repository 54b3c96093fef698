// For the tests that run the binaries of another Kubernetes version than the default one: `make test`
// builds those in the background while the tests run (hack/with-background-builds.sh), so such a test waits
// for them here, and test/env/sequencer.ts runs the files that call this last.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findBinaries, kubeCacheRoot } from '../../providers/local/binaries.js';

/** Long enough for a cold build of one version on a busy 2-core machine (it took 17 min once). */
export const KUBE_BUILD_WAIT_MS = 40 * 60_000;

/** Whether a hack/kube-assets.sh build holds the cache's build lock now. */
function buildRunning(): boolean {
  const lock = join(kubeCacheRoot(), '.build.lock');
  const probe = spawnSync('flock', ['--nonblock', '--shared', lock, 'true'], { stdio: 'ignore' });
  return probe.status === 1;
}

/**
 * Resolves once etcd and the kube binaries of `version` are in the cache (or KUBEBUILDER_ASSETS). Fails at
 * once, with make kube-assets' fix, when they are missing and no build is running; fails after `timeoutMs`.
 */
export async function waitForKubeBinaries(version: string, timeoutMs = KUBE_BUILD_WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    const lookup = await findBinaries(version);
    if (lookup.found) return;
    if (!buildRunning()) {
      // The build may have finished between the two looks.
      const again = await findBinaries(version);
      if (again.found) return;
      throw new Error(lookup.message);
    }
    if (Date.now() > deadline)
      throw new Error(`${lookup.message} (waited ${timeoutMs / 60_000} min for the build)`);
    if (!told) process.stderr.write(`[kube-binaries] waiting for the build of ${version} to finish\n`);
    told = true;
    await new Promise((r) => setTimeout(r, 5_000));
  }
}
