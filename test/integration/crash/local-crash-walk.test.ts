// Every crash point a local lifecycle reaches (create 1+1, scale to 3 control-plane machines and 2
// simulated workers, delete), one at a time: the operator dies there, comes back, and the cluster
// converges with one process per Machine and role and nothing left after the delete.
import { describe } from 'vitest';
import { crashPointsOf } from '../../../src/crash/points.js';
import { localLifecycle } from '../../support/crash/local.js';
import { testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { pointsToWalk, walkCrashPoints } from './walk.js';

const namespace = useTestNamespace('crash-local');
// Simulated workers run no node-init.sh. etcd@2: the first member added by the scale, the duplicate
// etcd of issue #16.
const EVERY = [...crashPointsOf('local').filter((p) => p !== 'spawn:kubelet-node'), 'spawn:etcd@2'];
const SUBSET = ['spawn:etcd@2', 'kube-create:Machine', 'status:Machine'];

describe.sequential('the local lifecycle through a crash at each point', () => {
  walkCrashPoints({
    namespace,
    points: pointsToWalk(EVERY, SUBSET),
    lifecycle: ({ name, stateDir }) =>
      localLifecycle({
        kc: testKubeConfig(),
        kubeconfigPath: testKubeconfigPath(),
        namespace: namespace(),
        name,
        stateDir,
      }),
    timeoutMs: 300_000,
  });
});
