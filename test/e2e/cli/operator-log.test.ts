// Every line the operator logs is JSON with unique keys: the logger's name is `logger`, the object a
// reconcile is about is `namespace` and `name` (as controller-runtime logs them). Read from the real
// `clusterforge operator` process reconciling a real (in-memory) cluster, at LOG_LEVEL=debug.
import { describe, expect, it } from 'vitest';
import { installCRDs } from '../../support/crds.js';
import { duplicateKeys } from '../../support/json-keys.js';
import { kubectl, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { runCli } from './cli.js';

const namespace = useTestNamespace('cli-operator-log');
const NAME = 'logged';

describe('duplicateKeys', () => {
  it('finds a key repeated in one object, at any depth, and nothing else', () => {
    expect(duplicateKeys('{"name":"a","x":{"name":"b"},"name":"c"}')).toEqual(['name']);
    expect(duplicateKeys('{"o":[{"k":1,"k":2}],"s":"\\"k\\":"}')).toEqual(['o[].k']);
    expect(duplicateKeys('{"a":{"b":1},"c":{"b":2}}')).toEqual([]);
  });
});

describe('the operator log', () => {
  it('has unique keys on every line, with the logger and the object apart', async () => {
    await installCRDs();
    const generated = await runCli([
      'generate',
      'cluster',
      NAME,
      '--infrastructure',
      'inmemory',
      '--target-namespace',
      namespace(),
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    const applied = await kubectl(['apply', '-f', '-'], { input: generated.stdout });
    expect(applied.code, applied.stderr).toBe(0);

    // The operator runs until the time is up (then it is killed): long enough to reconcile every object
    // of an in-memory cluster, whose machines are Ready at once.
    const run = await runCli(
      [
        'operator',
        '--kubeconfig',
        testKubeconfigPath(),
        '--namespace',
        namespace(),
        '--metrics-bind-address',
        '127.0.0.1:0',
      ],
      { env: { ...process.env, LOG_LEVEL: 'debug' }, timeoutMs: 15_000 },
    );
    const lines = run.stdout.split('\n').filter((l) => l !== '');
    expect(lines.length, run.stderr).toBeGreaterThan(0);
    for (const line of lines) expect(duplicateKeys(line), line).toEqual([]);

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const reconciled = parsed.find(
      (l) => l.msg === 'reconciled' && l.controller === 'cluster' && l.name === NAME,
    );
    expect(reconciled, 'a debug line for the Cluster reconcile').toMatchObject({
      logger: 'clusterforge',
      controller: 'cluster',
      namespace: namespace(),
      name: NAME,
    });
    expect(parsed.every((l) => l.logger === 'clusterforge')).toBe(true);
  });
});
