// The aws-ec2 workload stand-in for tests against an emulator: a kubeconfig by path, or the kubeconfig
// itself (an operator in a pod gets it from the credentials Secret through envFrom); unset, none.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  WORKLOAD_KUBECONFIG_DATA_ENV,
  WORKLOAD_KUBECONFIG_ENV,
  workloadClientFromEnv,
} from '../../../providers/aws-ec2/workload-from-env.js';

const kubeconfig = (server: string) =>
  stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'x',
  });
const admin = { server: 'https://ignored.example:6443' } as never;

describe('workloadClientFromEnv', () => {
  it('stands in with no API server when neither variable is set', () => {
    expect(workloadClientFromEnv({})).toEqual({});
    expect(workloadClientFromEnv({ [WORKLOAD_KUBECONFIG_DATA_ENV]: '  ' })).toEqual({});
  });

  it('takes the kubeconfig itself', () => {
    const { workloadClient } = workloadClientFromEnv({
      [WORKLOAD_KUBECONFIG_DATA_ENV]: kubeconfig('https://127.0.0.1:6443'),
    });
    expect(workloadClient?.(admin).server).toBe('https://127.0.0.1:6443');
  });

  it('prefers the path when both are set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'clusterforge-standin-'));
    try {
      const path = join(dir, 'kubeconfig');
      await writeFile(path, kubeconfig('https://127.0.0.2:6443'));
      const { workloadClient } = workloadClientFromEnv({
        [WORKLOAD_KUBECONFIG_ENV]: path,
        [WORKLOAD_KUBECONFIG_DATA_ENV]: kubeconfig('https://127.0.0.1:6443'),
      });
      expect(workloadClient?.(admin).server).toBe('https://127.0.0.2:6443');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
