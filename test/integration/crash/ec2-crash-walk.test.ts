// Every crash point an aws-ec2 lifecycle reaches against the AWS emulator (create 1+1 in two zones,
// scale the workers to 2, delete), one at a time: the operator dies right after AWS answered (or
// after a Kubernetes write), comes back, and finds what it made by its tags: one instance per Machine
// ever (terminated ones counted), nothing tagged for the cluster after the delete.
import { beforeAll, describe } from 'vitest';
import { IMAGE_OWNERS_ENV } from '../../../providers/aws-ec2/services/images.js';
import { WORKLOAD_KUBECONFIG_ENV } from '../../../providers/aws-ec2/workload-from-env.js';
import { crashPointsOf } from '../../../src/crash/points.js';
import { ec2Lifecycle } from '../../support/crash/ec2.js';
import { testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { capaImage } from '../aws/fixtures.js';
import { pointsToWalk, walkCrashPoints } from './walk.js';

const VERSION = 'v1.37.2';
const namespace = useTestNamespace('crash-ec2');
// RunInstances@2: the second machine's instance, while the first one's is already there.
const EVERY = [...crashPointsOf('aws-ec2'), 'aws:RunInstances@2'];
const SUBSET = [
  'aws:RunInstances@2',
  'aws:CreateNatGateway',
  'aws:CreateLoadBalancer',
  'aws:TerminateInstances',
  'workload-create:bootstrap-token',
];
let imageOwner = '';
beforeAll(async () => {
  imageOwner = await capaImage(VERSION);
});

describe.sequential('the aws-ec2 lifecycle through a crash at each point', () => {
  walkCrashPoints({
    namespace,
    points: pointsToWalk(EVERY, SUBSET),
    lifecycle: ({ name }) =>
      ec2Lifecycle({
        kc: testKubeConfig(),
        kubeconfigPath: testKubeconfigPath(),
        namespace: namespace(),
        name,
        version: VERSION,
      }),
    // The test API server stands in for the workload cluster's API (join tokens): the emulator's
    // load balancers answer nothing.
    env: () => ({ [IMAGE_OWNERS_ENV]: imageOwner, [WORKLOAD_KUBECONFIG_ENV]: testKubeconfigPath() }),
    timeoutMs: 240_000,
  });
});
