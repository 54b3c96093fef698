// `init --host-network --api-server --metrics-port`: the operator on a cluster whose `kubernetes`
// Service does not route; without the flags, the objects are what they always were.
import { describe, expect, it } from 'vitest';
import { CliError, ExitCode, packageRoot } from '../../../src/cli/common.js';
import { type InstallOptions, installObjects } from '../../../src/cli/install/manifests.js';
import { parseApiServer } from '../../../src/cli/install/pod-network.js';

const base: InstallOptions = {
  namespace: 'clusterforge-system',
  image: 'example.com/clusterforge:dev',
  version: '0.0.0',
  env: {},
  crdDir: new URL('crds/', packageRoot()),
  providers: ['local'],
};
const deploymentOf = (opts: Partial<InstallOptions>) =>
  installObjects({ ...base, ...opts }).find((o) => o.kind === 'Deployment') as any;
const namespaceOf = (opts: Partial<InstallOptions>) =>
  installObjects({ ...base, ...opts }).find((o) => o.kind === 'Namespace') as any;

describe('the operator pod’s network', () => {
  it('is the pod network, restricted, port 8080, by default; the options at their defaults change nothing', () => {
    const d = deploymentOf({});
    expect(d.spec.strategy).toBeUndefined();
    expect(d.spec.template.spec.hostNetwork).toBeUndefined();
    expect(d.spec.template.spec.containers[0].env).toEqual([
      { name: 'XDG_STATE_HOME', value: '/var/lib/clusterforge' },
    ]);
    expect(namespaceOf({}).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(installObjects({ ...base, metricsPort: 8080, hostNetwork: false })).toEqual(installObjects(base));
  });

  it('with --host-network, --api-server and --metrics-port: the node’s network, the API server itself, its own port', () => {
    const opts = { hostNetwork: true, apiServer: { host: '10.0.0.10', port: 6443 }, metricsPort: 9443 };
    const d = deploymentOf(opts);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(pod).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    expect(c.env).toEqual([
      { name: 'XDG_STATE_HOME', value: '/var/lib/clusterforge' },
      { name: 'KUBERNETES_SERVICE_HOST', value: '10.0.0.10' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '6443' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]);
    expect(c.args).toContain('--metrics-bind-address=0.0.0.0:9443');
    expect(c.ports).toEqual([{ name: 'metrics', containerPort: 9443, protocol: 'TCP' }]);
    // Probes name the port, so they follow it.
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    // No surge: the new pod cannot bind the node's port while the old one holds it.
    expect(d.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    expect(namespaceOf(opts).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
  });

  it('--api-server alone keeps the pod network and the restricted level', () => {
    const d = deploymentOf({ apiServer: { host: 'fd00::1', port: 443 } });
    expect(d.spec.template.spec.hostNetwork).toBeUndefined();
    expect(d.spec.template.spec.containers[0].env).toContainEqual({
      name: 'KUBERNETES_SERVICE_HOST',
      value: 'fd00::1',
    });
    expect(namespaceOf({ apiServer: { host: 'a', port: 1 } }).metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });
});

describe('parseApiServer', () => {
  it('takes host:port, [ipv6]:port and https://host:port', () => {
    expect(parseApiServer('10.0.0.10:6443')).toEqual({ host: '10.0.0.10', port: 6443 });
    expect(parseApiServer('[fd00::1]:6443')).toEqual({ host: 'fd00::1', port: 6443 });
    expect(parseApiServer('https://api.example.com:443/')).toEqual({ host: 'api.example.com', port: 443 });
  });

  it('refuses anything else with exit code 2, naming the flag', () => {
    for (const bad of ['10.0.0.10', 'http://a:1', 'a:0', 'a:70000', 'fd00::1:6443', '']) {
      const err = (() => {
        try {
          parseApiServer(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(err, bad).toBeInstanceOf(CliError);
      expect(err).toMatchObject({
        exitCode: ExitCode.usage,
        message: expect.stringContaining('--api-server'),
      });
    }
  });
});
