// Which binaries a machine of a given version runs: the per-version cache, or KUBEBUILDER_ASSETS
// when (and only when) its kube-apiserver is that version.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBinaries, kubeCacheRoot } from '../../../providers/local/binaries.js';
import { kubeVersions } from '../../env/assets.js';

const [newest, previous] = kubeVersions() as [string, string];

describe('findBinaries', () => {
  it('takes a version from the cache built by make kube-assets', async () => {
    const lookup = await findBinaries(newest, { ...process.env, KUBEBUILDER_ASSETS: '' });
    expect(lookup).toMatchObject({
      found: true,
      binaries: { version: newest, dir: join(kubeCacheRoot(), newest) },
    });
  });

  it('uses KUBEBUILDER_ASSETS only for the version its kube-apiserver reports', async () => {
    const assets = join(kubeCacheRoot(), newest);
    const env = {
      ...process.env,
      KUBEBUILDER_ASSETS: assets,
      CLUSTERFORGE_CACHE: '/nonexistent/clusterforge',
    };
    expect(await findBinaries(newest, env)).toMatchObject({ found: true, binaries: { dir: assets } });
    const other = await findBinaries(previous, env);
    expect(other.found).toBe(false);
    expect(!other.found && other.message).toBe(
      `no etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kubelet for ${previous} in /nonexistent/clusterforge/kube/${previous}; run make kube-assets (KUBEBUILDER_ASSETS=${assets} holds another version, or not all of them)`,
    );
  });
});
