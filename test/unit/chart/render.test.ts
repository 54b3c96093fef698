// charts/clusterforge/ and `clusterforge init` are one install: for the same settings, `helm template`
// renders the objects that `init --dry-run -o yaml` prints, object by object, field by field (the one
// difference: the chart's objects are managed-by Helm). `helm lint --strict` passes, and bad values fail
// with the field's name. No server: both sides only render (docs/helm.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../e2e/cli/cli.js';
import { CHART, type Helm, type Obj, startHelm, yamlObjects } from '../../support/helm.js';

const key = (o: Obj) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** The one intended difference: who manages the objects (Helm, or init's field manager). */
function asInit(o: Obj): Obj {
  const copy = structuredClone(o);
  const walk = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    const labels = (v as { labels?: Record<string, string> }).labels;
    if (labels?.['app.kubernetes.io/managed-by'] === 'Helm')
      labels['app.kubernetes.io/managed-by'] = 'clusterforge-init';
    for (const child of Object.values(v)) walk(child);
  };
  walk(copy);
  return copy;
}

/** The same settings, as init flags and as chart values. */
const SETTINGS: { name: string; init: string[]; values: string[]; namespace?: string }[] = [
  { name: 'the defaults', init: [], values: [] },
  {
    name: 'the AWS providers with a credentials Secret by reference',
    init: ['--infrastructure', 'local,aws-ec2,aws-eks', '--aws-credentials-secret', 'team-aws'],
    values: ['providers={local,aws-ec2,aws-eks}', 'aws.credentialsSecret=team-aws'],
  },
  {
    name: 'the inmemory provider only',
    init: ['--infrastructure', 'inmemory'],
    values: ['providers={inmemory}'],
  },
  { name: '3 shards', init: ['--shards', '3'], values: ['shards=3'] },
  {
    name: 'a custom image',
    init: ['--image', 'registry.example.com:5000/team/clusterforge:dev-1'],
    values: ['image.repository=registry.example.com:5000/team/clusterforge', 'image.tag=dev-1'],
  },
  { name: 'log level debug', init: ['--log-level', 'debug'], values: ['logLevel=debug'] },
  {
    name: 'another namespace, a ServiceMonitor, 2 shards and log level warn',
    init: ['--service-monitor', 'always', '--shards', '2', '--log-level', 'warn'],
    values: ['serviceMonitor.enabled=true', 'shards=2', 'logLevel=warn'],
    namespace: 'cf-ops',
  },
  { name: 'the host network', init: ['--host-network'], values: ['hostNetwork=true'] },
  {
    name: 'an API server address',
    init: ['--api-server', '10.0.0.10:6443'],
    values: ['apiServer.host=10.0.0.10', 'apiServer.port=6443'],
  },
  { name: 'metrics port 9443', init: ['--metrics-port', '9443'], values: ['metricsPort=9443'] },
  {
    name: 'the host network, an IPv6 API server, metrics port 9443 and aws-ec2 with a Secret (as init-real)',
    init: [
      '--host-network',
      '--api-server',
      'https://[fd00::1]:7443',
      '--metrics-port',
      '9443',
      '--infrastructure',
      'aws-ec2',
      '--aws-credentials-secret',
      'team-aws',
    ],
    values: [
      'hostNetwork=true',
      'apiServer.host=fd00::1',
      'apiServer.port=7443',
      'metricsPort=9443',
      'providers={aws-ec2}',
      'aws.credentialsSecret=team-aws',
    ],
    namespace: 'cf-net',
  },
];

const sets = (values: string[]) => values.flatMap((v) => ['--set', v]);

let helm: Helm;
beforeAll(async () => {
  helm = await startHelm();
}, 900_000);
afterAll(async () => {
  await helm?.dispose();
});

describe('the Helm chart', () => {
  it.each(SETTINGS)(
    'renders what init --dry-run -o yaml prints, with $name',
    async (s) => {
      const namespace = s.namespace ?? 'clusterforge-system';
      // init reads no AWS variable when the Secret is referenced: an environment without any proves it.
      const env = { PATH: process.env.PATH ?? '' };
      const [printed, rendered] = await Promise.all([
        runCli(['init', '--dry-run', '-o', 'yaml', '--namespace', namespace, ...s.init], { env }),
        helm([
          'template',
          'clusterforge',
          CHART,
          '--include-crds',
          '--namespace',
          namespace,
          ...sets(s.values),
        ]),
      ]);
      expect(printed.code, printed.stderr).toBe(0);
      expect(rendered.code, rendered.stderr).toBe(0);
      const fromInit = new Map(yamlObjects(printed.stdout).map((o) => [key(o), o]));
      const fromChart = new Map(yamlObjects(rendered.stdout).map((o) => [key(o), asInit(o)]));
      expect(fromInit.size).toBeGreaterThanOrEqual(13);
      expect([...fromChart.keys()].sort()).toEqual([...fromInit.keys()].sort());
      for (const [k, o] of fromInit) expect(fromChart.get(k), k).toEqual(o);
    },
    60_000,
  );

  it('passes helm lint --strict, with the defaults and with every setting above', async () => {
    for (const s of SETTINGS) {
      const linted = await helm(['lint', '--strict', CHART, ...sets(s.values)]);
      expect(linted.code, `${s.name}: ${linted.stdout}${linted.stderr}`).toBe(0);
      expect(linted.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  }, 60_000);

  it('init refuses, as the chart does, a credentials Secret that no Secret could be named', async () => {
    const bad = await runCli(['init', '--dry-run', '--aws-credentials-secret', 'Team_AWS']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--aws-credentials-secret');
    const rendered = await helm([
      'template',
      'clusterforge',
      CHART,
      '--set',
      'aws.credentialsSecret=Team_AWS',
    ]);
    expect(rendered.code).not.toBe(0);
    expect(rendered.stderr).toContain('/aws/credentialsSecret');
  }, 60_000);

  it('refuses bad values and names the field', async () => {
    const template = (values: string[]) => helm(['template', 'clusterforge', CHART, ...sets(values)]);
    const noSecret = await template(['providers={aws-eks}']);
    expect(noSecret.code).not.toBe(0);
    expect(noSecret.stderr).toContain('need aws.credentialsSecret');
    for (const [value, field] of [
      ['providers={gcp}', 'providers'],
      ['shards=0', 'shards'],
      ['logLevel=loud', 'logLevel'],
      ['replicas=3', 'replicas'],
      ['hostNetwork=yes', 'hostNetwork'],
      ['apiServer=10.0.0.10:6443', 'apiServer'],
      ['apiServer.host=10.0.0.10:6443', 'apiServer/host'],
      ['apiServer.port=0', 'apiServer/port'],
      ['metricsPort=0', 'metricsPort'],
      ['metricsPort=65536', 'metricsPort'],
    ] as const) {
      const bad = await template([value]);
      expect(bad.code, value).not.toBe(0);
      expect(bad.stderr, value).toContain(field);
    }
  }, 60_000);
});
