// `clusterforge init` against the real API server: it installs everything, a second run changes nothing,
// the dry run is what kubectl applies, AWS credentials come from the environment, and the rollout wait
// reports progress and times out with its own exit code (no kube-controller-manager runs here, so a
// Deployment never rolls out).

import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../env/assets.js';
import { kubectl, testKubeConfig, testKubeconfigPath, uniqueName } from '../../support/kube.js';
import { runCli } from './cli.js';

const kc = testKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const made: string[] = [];
/** A namespace name for `init --namespace`, removed after the file (it stays Terminating: no GC here). */
function operatorNamespace(prefix: string): string {
  const name = uniqueName(prefix);
  made.push(name);
  return name;
}
afterAll(async () => {
  for (const name of made) await core.deleteNamespace({ name }).catch(() => undefined);
});

/** What init applies, in order, as its report names each object. */
const installed = (ns: string) => [
  'CustomResourceDefinition clusters.clusterforge.dev',
  'CustomResourceDefinition controlplanes.clusterforge.dev',
  'CustomResourceDefinition machinedeployments.clusterforge.dev',
  'CustomResourceDefinition machines.clusterforge.dev',
  'CustomResourceDefinition machinetemplates.clusterforge.dev',
  `Namespace ${ns}`,
  `ServiceAccount ${ns}/clusterforge-operator`,
  'ClusterRole clusterforge-operator',
  'ClusterRoleBinding clusterforge-operator',
  `Role ${ns}/clusterforge-operator-leader-election`,
  `RoleBinding ${ns}/clusterforge-operator-leader-election`,
  `Deployment ${ns}/clusterforge-operator`,
  `Service ${ns}/clusterforge-operator`,
];

describe('init', () => {
  it('installs the CRDs, RBAC and the operator; a second run changes nothing', async () => {
    const ns = operatorNamespace('cf-init');
    const args = ['init', '--kubeconfig', testKubeconfigPath(), '--namespace', ns, '--wait=false'];
    const first = await runCli(args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const lines = first.stdout.split('\n').filter((l) => /^ {2}.* (created|configured|unchanged)$/.test(l));
    expect(lines.map((l) => l.trim().replace(/\s+\S+$/, ''))).toEqual(installed(ns));
    // The namespace and everything in it are new; the cluster-wide objects may exist from other tests.
    expect(first.stdout).toMatch(new RegExp(`Namespace ${ns}\\s+created`));
    expect(first.stdout).toMatch(/Deployment \S+\s+created/);

    const second = await runCli([...args, '-o', 'json']);
    expect(second.code, second.stderr).toBe(0);
    const results = JSON.parse(second.stdout).items as { kind: string; result: string }[];
    expect(results).toHaveLength(installed(ns).length);
    expect(results.filter((r) => r.result !== 'unchanged')).toEqual([]);
    expect(second.stderr).toContain('Nothing changed.');

    // What the Deployment runs, and how.
    const deployment = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'clusterforge-operator', namespace: ns });
    const pod = deployment.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(container.image).toMatch(/^ghcr\.io\/clusterforge\/clusterforge:v\d+\.\d+\.\d+/);
    expect(container.args).toEqual([
      'operator',
      '--leader-elect',
      `--leader-election-namespace=${ns}`,
      '--metrics-bind-address=0.0.0.0:8080',
    ]);
    expect(container.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(container.resources?.requests).toMatchObject({ cpu: '100m', memory: '128Mi' });
    expect(pod.securityContext?.runAsNonRoot).toBe(true);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.serviceAccountName).toBe('clusterforge-operator');

    // Least privilege: no wildcard anywhere in the operator's roles.
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const clusterRole = await rbac.readClusterRole({ name: 'clusterforge-operator' });
    const role = await rbac.readNamespacedRole({
      name: 'clusterforge-operator-leader-election',
      namespace: ns,
    });
    for (const rule of [...(clusterRole.rules ?? []), ...(role.rules ?? [])]) {
      for (const field of [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames ?? []]) {
        expect(
          field?.some((v) => v.includes('*')),
          JSON.stringify(rule),
        ).toBe(false);
      }
    }
    const binding = await rbac.readClusterRoleBinding({ name: 'clusterforge-operator' });
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'clusterforge-operator', namespace: ns },
    ]);
  });

  it('--dry-run -o yaml prints what kubectl apply --dry-run=server accepts, and touches nothing', async () => {
    const ns = operatorNamespace('cf-dry');
    // Server dry run does not create the Namespace, so the namespaced objects need it to exist already
    // (a GitOps tool applies the Namespace first for real).
    await core.createNamespace({ body: { metadata: { name: ns } } });
    const printed = await runCli(['init', '--dry-run', '-o', 'yaml', '--namespace', ns]);
    expect(printed.code, printed.stderr).toBe(0);
    const applied = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: printed.stdout });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`deployment.apps/clusterforge-operator created (server dry run)`);
    expect(applied.stdout).toContain('clusterrole.rbac.authorization.k8s.io/clusterforge-operator');
    expect(applied.stdout.match(/customresourcedefinition/g)).toHaveLength(5);
    const deployments = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace: ns });
    expect(deployments.items).toEqual([]);
  });

  it('with an AWS provider, builds the credentials Secret from the environment, or names what is missing', async () => {
    const missingNs = operatorNamespace('cf-aws-missing');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 's3cr3t',
    };
    delete env.AWS_SESSION_TOKEN;
    const noSecret = { ...env };
    delete noSecret.AWS_SECRET_ACCESS_KEY;
    const awsNs = operatorNamespace('cf-aws');
    const kubeconfig = ['--kubeconfig', testKubeconfigPath(), '--wait=false'];
    const [missing, ok] = await Promise.all([
      runCli(['init', ...kubeconfig, '-n', missingNs, '--infrastructure', 'local,aws-ec2'], {
        env: noSecret,
      }),
      runCli(['init', ...kubeconfig, '-n', awsNs, '--infrastructure', 'local,aws-ec2,aws-eks'], { env }),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('AWS_SECRET_ACCESS_KEY is not set');
    expect(missing.stderr).toContain('fix:');
    // Nothing half-made: the check comes before the first write.
    await expect(core.readNamespace({ name: missingNs })).rejects.toMatchObject({ code: 404 });

    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Secret \S+\/clusterforge-aws-credentials\s+created/);
    const secret = await core.readNamespacedSecret({
      name: 'clusterforge-aws-credentials',
      namespace: awsNs,
    });
    const data = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(data).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 's3cr3t' });
    expect(data.AWS_SESSION_TOKEN).toBeUndefined();
    // The credentials never appear in what init prints.
    expect(ok.stdout + ok.stderr).not.toContain('s3cr3t');
  });

  it('waits for the rollout with a line per step, and times out with exit code 4', async () => {
    const ns = operatorNamespace('cf-wait');
    const waited = await runCli([
      'init',
      '--kubeconfig',
      testKubeconfigPath(),
      '-n',
      ns,
      '--wait-timeout',
      '3s',
    ]);
    expect(waited.code).toBe(4);
    // Not a terminal: plain lines, no carriage returns.
    expect(waited.stdout).not.toContain('\r');
    expect(waited.stdout).toMatch(/\[\s*\d+\.\ds\] Deployment clusterforge-operator has no status yet/);
    expect(waited.stderr).toContain('timed out after 3s waiting for Deployment');
    expect(waited.stderr).toContain('--wait=false');
  });

  it('adds a ServiceMonitor for the metrics Service once the Prometheus Operator CRD is installed', async () => {
    const ns = operatorNamespace('cf-monitor');
    const args = ['init', '--kubeconfig', testKubeconfigPath(), '-n', ns, '--wait=false'];
    const crd = join(repoRoot, 'test/fixtures/servicemonitor-crd.yaml');
    const installedCrd = await kubectl(['apply', '-f', crd]);
    expect(installedCrd.code, installedCrd.stderr).toBe(0);
    try {
      await kubectl(['wait', '--for=condition=Established', '-f', crd, '--timeout=30s']);
      const withCrd = await runCli(args);
      expect(withCrd.code, withCrd.stderr).toBe(0);
      expect(withCrd.stdout).toMatch(new RegExp(`ServiceMonitor ${ns}/clusterforge-operator\\s+created`));
      const monitor = await kubectl([
        'get',
        '-n',
        ns,
        'servicemonitors.monitoring.coreos.com',
        'clusterforge-operator',
        '-o',
        'json',
      ]);
      expect(monitor.code, monitor.stderr).toBe(0);
      expect(JSON.parse(monitor.stdout).spec.endpoints).toEqual([
        { port: 'metrics', path: '/metrics', interval: '30s' },
      ]);
      const service = await core.readNamespacedService({ name: 'clusterforge-operator', namespace: ns });
      expect(service.spec?.ports?.map((p) => [p.name, p.port])).toEqual([['metrics', 8080]]);
      // --service-monitor=never leaves it out even where the CRD is.
      const without = await runCli([...args, '--service-monitor=never', '-o', 'json']);
      expect(without.code, without.stderr).toBe(0);
      expect(JSON.parse(without.stdout).items.map((i: { kind: string }) => i.kind)).not.toContain(
        'ServiceMonitor',
      );
    } finally {
      await kubectl(['delete', '-f', crd, '--ignore-not-found']);
    }
    // --service-monitor=always where the CRD is not: the API server refuses it, and init names the object.
    const refused = await runCli([...args, '--service-monitor=always']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('ServiceMonitor');
  });

  it('refuses a kubeconfig that does not exist with exit code 5', async () => {
    const noKubeconfig = await runCli(['init', '--kubeconfig', '/nonexistent/kubeconfig', '--wait=false']);
    expect(noKubeconfig.code).toBe(5);
    expect(noKubeconfig.stderr).toContain('fix:');
  });
});
