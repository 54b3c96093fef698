import { defineConfig } from 'vitest/config';
import KubeBuildsLastSequencer from './test/env/sequencer.js';

export default defineConfig({
  test: {
    // Stopping the test environment's processes may take a few seconds.
    teardownTimeout: 30_000,
    // The files that wait for another Kubernetes version's binaries (built while the tests run) go last.
    sequence: { sequencer: KubeBuildsLastSequencer },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          environment: 'node',
          // One etcd + kube-apiserver + AWS emulator for the whole run (test/env/global-setup.ts).
          globalSetup: ['test/env/global-setup.ts'],
          // Two cores: the API server and the operator under test need them more than a second test file.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
