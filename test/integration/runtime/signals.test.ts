// A manager process on SIGTERM: it stops taking work, finishes the reconcile in flight, releases its
// lease, and exits by itself.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it, vi } from 'vitest';
import { testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/signal-manager.ts', import.meta.url));
const WAIT = { timeout: 30_000, interval: 50 };

describe('Manager on SIGTERM', () => {
  const namespace = useTestNamespace('rt-signals');

  it('finishes the reconcile in flight, releases the lease and exits', async () => {
    await testKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: namespace(), body: { metadata: { name: 'slow' } } });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', FIXTURE, testKubeconfigPath(), namespace(), 'signal-lease'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'silent' },
      },
    );
    const lines: string[] = [];
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await vi.waitFor(() => expect(lines).toContain('reconcile-start slow'), WAIT);
      child.kill('SIGTERM');
      const code = await exited;
      expect(stderr).toBe('');
      expect(code).toBe(0);
      // The reconcile in flight ran to its end before the manager stopped.
      expect(lines.indexOf('reconcile-end slow')).toBeGreaterThan(lines.indexOf('reconcile-start slow'));
      expect(lines.at(-1)).toBe('stopped');
      const lease = await testKubeConfig()
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: 'signal-lease', namespace: namespace() });
      expect(lease.spec?.holderIdentity ?? '').toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
