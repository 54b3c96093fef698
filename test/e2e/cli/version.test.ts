// `clusterforge --version` prints what `clusterforge version` prints: the version of package.json, the
// API version served, and Node's.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const line = `clusterforge ${pkg.version} (API clusterforge.dev/v1alpha1, Node ${process.version})\n`;

describe('clusterforge --version', () => {
  it('prints the version of package.json and exits 0', async () => {
    const res = await runCli(['--version']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe(line);
    expect(res.stderr).toBe('');
  });

  it('is the line of `clusterforge version`, whose JSON has the same version', async () => {
    const [text, json] = await Promise.all([runCli(['version']), runCli(['version', '-o', 'json'])]);
    expect(text.stdout).toBe(line);
    expect(JSON.parse(json.stdout)).toEqual({
      clusterforge: pkg.version,
      api: 'clusterforge.dev/v1alpha1',
      node: process.version,
    });
  });

  it('is listed in --help', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ {2}--version +print the version of clusterforge and exit/m);
  });
});
