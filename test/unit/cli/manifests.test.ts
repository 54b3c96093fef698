// What `clusterforge init` installs, without a cluster: least privilege, a hardened Deployment, and AWS
// credentials from the environment only when an AWS provider is asked for.
import { describe, expect, it } from 'vitest';
import { CliError, ExitCode, packageRoot } from '../../../src/cli/common.js';
import { installObjects, parseProviders } from '../../../src/cli/install/manifests.js';

const base = {
  namespace: 'clusterforge-system',
  image: 'example.com/clusterforge:dev',
  version: '0.0.0',
  env: {},
  crdDir: new URL('crds/', packageRoot()),
};

describe('installObjects', () => {
  it('holds the CRDs, then the namespace, RBAC, the Deployment and its Service; no Secret without an AWS provider', () => {
    const objects = installObjects({ ...base, providers: ['local'] });
    expect(objects.map((o) => o.kind)).toEqual([
      ...Array(5).fill('CustomResourceDefinition'),
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'Deployment',
      'Service',
    ]);
  });

  it('points the metrics Service and the ServiceMonitor at the pods metrics port', () => {
    const objects = installObjects({ ...base, providers: ['local'], serviceMonitor: true });
    const deployment = objects.find((o) => o.kind === 'Deployment') as any;
    const service = objects.find((o) => o.kind === 'Service') as any;
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as any;
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(service.spec.selector)) expect(podLabels[k]).toBe(v);
    expect(service.spec.ports[0].targetPort).toBe(deployment.spec.template.spec.containers[0].ports[0].name);
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) {
      expect(service.metadata.labels[k]).toBe(v);
    }
    expect(monitor.spec.endpoints[0].port).toBe(service.spec.ports[0].name);
    // The scrape job is the Service's name: the one the alert rules expect.
    expect(service.metadata.name).toBe('clusterforge-operator');
  });

  it('has no wildcard in any rule, and the Lease rules only in the namespace', () => {
    const objects = installObjects({ ...base, providers: ['local'] });
    const rules = objects
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .flatMap((o) => o.rules as any[]);
    expect(JSON.stringify(rules)).not.toContain('*');
    const clusterRole = objects.find((o) => o.kind === 'ClusterRole')!;
    expect(JSON.stringify(clusterRole.rules)).not.toContain('leases');
    for (const rule of rules) expect(rule.verbs).not.toContain('escalate');
  });

  it('builds the AWS Secret from the environment and names the first missing variable', () => {
    expect(() =>
      installObjects({ ...base, providers: ['aws-eks'], env: { AWS_ACCESS_KEY_ID: 'a' } }),
    ).toThrow(/AWS_SECRET_ACCESS_KEY is not set/);
    const objects = installObjects({
      ...base,
      providers: ['local', 'aws-ec2'],
      env: { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_REGION: 'eu-west-1', UNRELATED: 'x' },
    });
    const secret = objects.find((o) => o.kind === 'Secret')!;
    expect(Object.keys(secret.data as object).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
    ]);
  });

  it('makes no AWS Secret and asks for no AWS variable for local and inmemory', () => {
    const objects = installObjects({ ...base, providers: ['local', 'inmemory'], env: {} });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    const deployment = objects.find((o) => o.kind === 'Deployment')!;
    expect(deployment.metadata.annotations?.['clusterforge.dev/providers']).toBe('local,inmemory');
  });

  it('runs the operator non-root on a read-only root with leader election and probes', () => {
    const deployment = installObjects({ ...base, providers: ['local'] }).find(
      (o) => o.kind === 'Deployment',
    ) as any;
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0];
    expect(c.args).toContain('--leader-elect');
    expect(c.args).toContain('--metrics-bind-address=0.0.0.0:8080');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
  });
});

describe('installObjects with shards', () => {
  it('runs one replica per shard with --shards, and lets them list and take over Leases', () => {
    const objects = installObjects({ ...base, providers: ['local'], shards: 3 });
    const deployment = objects.find((o) => o.kind === 'Deployment') as any;
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.containers[0].args).toContain('--shards=3');
    const role = objects.find((o) => o.kind === 'Role') as any;
    expect(role.rules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['get', 'list', 'update', 'delete'],
    });
  });

  it('keeps one replica and no Lease list right without it', () => {
    const objects = installObjects({ ...base, providers: ['local'] });
    const deployment = objects.find((o) => o.kind === 'Deployment') as any;
    expect(deployment.spec.replicas).toBe(1);
    expect(
      deployment.spec.template.spec.containers[0].args.some((a: string) => a.startsWith('--shards')),
    ).toBe(false);
    const role = objects.find((o) => o.kind === 'Role') as any;
    expect(role.rules.some((r: any) => r.verbs.includes('list'))).toBe(false);
  });
});

describe('installObjects with a log level and a credentials Secret by reference', () => {
  const container = (objects: ReturnType<typeof installObjects>) =>
    (objects.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0];

  it("sets LOG_LEVEL only when asked (the operator's default is info)", () => {
    expect(container(installObjects({ ...base, providers: ['local'] })).env).toEqual([
      { name: 'XDG_STATE_HOME', value: '/var/lib/clusterforge' },
    ]);
    const env = container(installObjects({ ...base, providers: ['local'], logLevel: 'debug' })).env;
    expect(env).toContainEqual({ name: 'LOG_LEVEL', value: 'debug' });
  });

  it('references the named Secret, required, makes none and reads no AWS variable', () => {
    const objects = installObjects({
      ...base,
      providers: ['aws-ec2', 'aws-eks'],
      env: {},
      awsCredentialsSecret: 'team-aws',
    });
    expect(objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(container(objects).envFrom).toEqual([{ secretRef: { name: 'team-aws', optional: false } }]);
  });
});

describe('parseProviders', () => {
  it('takes a comma-separated list and refuses unknown names with exit code 2', () => {
    expect(parseProviders('local, aws-ec2,local')).toEqual(['local', 'aws-ec2']);
    const err = (() => {
      try {
        parseProviders('local,gcp');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({ exitCode: ExitCode.usage });
  });
});
