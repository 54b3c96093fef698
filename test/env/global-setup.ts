// vitest globalSetup of the `integration` project: one real Kubernetes control plane and one AWS API
// emulator for the whole run, shared by every test file (tests isolate themselves by namespace and by
// unique names and tags).
//
// Tests read what they need with inject(): kubeconfigPath, awsEndpoint, kubeVersion (see
// test/support/kube.ts). The AWS settings are also put in the environment of the run (the test
// workers and every process they spawn inherit it), so that no test can reach real AWS by mistake.
//
// Environment knobs: KUBEBUILDER_ASSETS (binaries folder), CLUSTERFORGE_TEST_KUBE_VERSION (another
// version from the cache than the first of hack/kube-versions).

import type { TestProject } from 'vitest/node';
import { startKubeEnv } from './kube-env.js';
import { startMoto } from './moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin kubeconfig of the shared test API server. */
    kubeconfigPath: string;
    /** URL of the AWS API emulator, for AWS_ENDPOINT_URL. */
    awsEndpoint: string;
    /** The Kubernetes version of the shared test API server, e.g. v1.37.2. */
    kubeVersion: string;
  }
}

/** Dummy credentials and region for the emulator; nothing else AWS-related leaks in from the host. */
export function awsEmulatorEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

const HOST_AWS_VARIABLES = [
  'AWS_PROFILE',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
];

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const version = process.env.CLUSTERFORGE_TEST_KUBE_VERSION || undefined;
  const [kube, aws] = await Promise.allSettled([startKubeEnv({ version }), startMoto()]);
  if (kube.status === 'rejected' || aws.status === 'rejected') {
    await Promise.allSettled([
      kube.status === 'fulfilled' ? kube.value.stop() : undefined,
      aws.status === 'fulfilled' ? aws.value.stop() : undefined,
    ]);
    throw kube.status === 'rejected' ? kube.reason : (aws as PromiseRejectedResult).reason;
  }
  const env = kube.value;
  const emulator = aws.value;

  for (const name of HOST_AWS_VARIABLES) delete process.env[name];
  Object.assign(process.env, awsEmulatorEnv(emulator.endpoint));
  process.env.AWS_EC2_METADATA_DISABLED = 'true';

  project.provide('kubeconfigPath', env.kubeconfigPath);
  project.provide('awsEndpoint', emulator.endpoint);
  project.provide('kubeVersion', env.version);

  if (process.env.CLUSTERFORGE_TEST_ENV_VERBOSE) {
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `[test env] kube-apiserver ${env.version} at ${env.server} (${env.dir}), AWS emulator at ${emulator.endpoint}; ready in ${seconds} s`,
    );
  }

  return async () => {
    await Promise.allSettled([env.stop(), emulator.stop()]);
  };
}
