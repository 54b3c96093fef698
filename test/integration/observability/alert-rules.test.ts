// The alert rules of docs/observability/ as Prometheus loads them: promtool (built from the Go module
// by hack/promtool.sh) checks the rules file and runs its unit tests on synthetic series; every alert
// has a test; and a wrong expectation makes promtool fail, so the run proves something.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../env/assets.js';

const run = promisify(execFile);
const DIR = join(repoRoot, 'docs/observability');
const RULES = join(DIR, 'clusterforge.rules.yaml');
const TESTS = join(DIR, 'clusterforge.rules.test.yaml');

/** promtool's exit code and output (it writes its findings to both streams). */
async function promtool(bin: string, args: string[], cwd = DIR): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(bin, args, { cwd });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the alert rules', () => {
  let bin = '';
  let scratch = '';

  beforeAll(async () => {
    bin = (await run(join(repoRoot, 'hack/promtool.sh'), [], { maxBuffer: 1 << 24 })).stdout.trim();
    scratch = await mkdtemp(join(tmpdir(), 'clusterforge-rules-'));
  }, 900_000);

  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('load in Prometheus: promtool check rules', async () => {
    const { code, out } = await promtool(bin, ['check', 'rules', RULES]);
    expect(out).toMatch(/SUCCESS: 9 rules found/);
    expect(code).toBe(0);
  });

  it('fire when they should and not before: promtool test rules', async () => {
    const { code, out } = await promtool(bin, ['test', 'rules', TESTS]);
    expect(out).toMatch(/SUCCESS/);
    expect(code).toBe(0);
  });

  it('each have a unit test', async () => {
    const rules = parse(await readFile(RULES, 'utf8')) as { groups: { rules: { alert: string }[] }[] };
    const tests = parse(await readFile(TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string }[] }[];
    };
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).sort();
    const tested = new Set(tests.tests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)));
    expect(alerts).toHaveLength(9);
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);
  });

  it('fail the unit tests when an alert is expected too early', async () => {
    // The same tests with ClusterNotReady expected after 10 minutes of not Ready instead of 15.
    const early = (await readFile(TESTS, 'utf8'))
      .replace('rule_files:\n  - clusterforge.rules.yaml', `rule_files:\n  - ${RULES}`)
      .replace(
        'eval_time: 16m\n        alertname: ClusterforgeClusterNotReady',
        'eval_time: 11m\n        alertname: ClusterforgeClusterNotReady',
      );
    const file = join(scratch, 'early.test.yaml');
    await writeFile(file, early);
    const { code, out } = await promtool(bin, ['test', 'rules', file], scratch);
    expect(out).toMatch(/ClusterforgeClusterNotReady/);
    expect(code).toBe(1);
  });
});
