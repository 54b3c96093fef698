// Where the kube-apiserver and etcd binaries of the test environment come from: the same rules as the
// dev environment's (src/devenv/assets.ts), re-exported for the tests.
//
// KUBEBUILDER_ASSETS (the envtest convention) wins when it is set and no other version is asked for;
// otherwise the per-version cache that `make kube-assets` (hack/kube-assets.sh) fills:
//   ${CLUSTERFORGE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/clusterforge}/kube/<version>/

import { packageRoot } from '../../src/devenv/assets.js';

export {
  apiServerVersion,
  assetsFor,
  defaultKubeVersion,
  type KubeAssets,
  kubeCacheRoot,
  kubeVersions,
  resolveKubeAssets,
} from '../../src/devenv/assets.js';

/** The repository root. */
export const repoRoot: string = `${packageRoot}/`;
