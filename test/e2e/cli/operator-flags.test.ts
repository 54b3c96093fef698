// `clusterforge operator` refuses a bad number flag before it connects anywhere: exit 2, and a
// message that names the flag and echoes the value (numbers, --shards, the Lease durations).
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const cases = [
  {
    args: ['--machine-concurrency=x'],
    message: "--machine-concurrency must be a whole number of at least 1, got 'x'",
  },
  { args: ['--concurrency=0'], message: "--concurrency must be a whole number of at least 1, got '0'" },
  {
    args: ['--cluster-concurrency=1.5'],
    message: "--cluster-concurrency must be a whole number of at least 1, got '1.5'",
  },
  { args: ['--kube-api-qps=-1'], message: "--kube-api-qps must be a whole number of at least 0, got '-1'" },
  { args: ['--kube-api-burst=0'], message: "--kube-api-burst must be a whole number of at least 1, got '0'" },
  { args: ['--shards=0'], message: "--shards must be a whole number of at least 1, got '0'" },
  {
    args: ['--leader-elect-lease-duration=soon'],
    message: "--leader-elect-lease-duration must be a duration such as 15s or 500ms, got 'soon'",
  },
  {
    args: ['--leader-elect-lease-duration=2500ms'],
    message: "--leader-elect-lease-duration must be whole seconds (a Lease counts in seconds), got '2500ms'",
  },
  {
    args: ['--leader-elect-lease-duration=10s', '--leader-elect-renew-deadline=10s'],
    message: '--leader-elect-renew-deadline must be shorter than --leader-elect-lease-duration',
  },
  {
    args: ['--leader-elect-retry-period=0s'],
    message: "--leader-elect-retry-period must be a duration such as 15s or 500ms, got '0s'",
  },
];

describe('clusterforge operator flags', () => {
  it.each(cases)('$args: exit 2, the flag named', async ({ args, message }) => {
    // A kubeconfig that points nowhere: the flags must fail first, without a connection attempt.
    const res = await runCli(['operator', '--kubeconfig', '/nonexistent/kubeconfig', ...args]);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe(`clusterforge operator: ${message}`);
    expect(res.stdout).toBe('');
  });
});
