// A reader that goes away before the CLI has written its output (`clusterforge init --dry-run | head -1`)
// ends the command as it ends kubectl and coreutils: killed by SIGPIPE (exit status 141 in a shell), with
// nothing on stderr, not Node's `write EPIPE` stack trace.
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const SIGPIPE_STATUS = 128 + 13;

describe('a closed pipe on stdout', () => {
  it.each([
    [['init', '--dry-run', '-o', 'yaml']],
    [['init', '--dry-run', '-o', 'json']],
    [['generate', 'cluster', 'demo', '--infrastructure', 'inmemory']],
    [['version']],
  ])('clusterforge %j: SIGPIPE as kubectl, no stack trace', async (args) => {
    const res = await runCli(args, { closeStdout: true });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(SIGPIPE_STATUS);
  });

  it('a reader that stays: the same command exits 0 with its whole output', async () => {
    const res = await runCli(['init', '--dry-run', '-o', 'yaml']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^apiVersion: apiextensions.k8s.io\/v1\n/);
    expect(res.stdout).toContain('kind: Deployment');
  });
});
