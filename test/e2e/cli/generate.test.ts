// `clusterforge generate cluster`: every provider's every flavour renders YAML the API server accepts as it
// is; a missing variable fails with its name and exit code 2.
import { beforeAll, describe, expect, it } from 'vitest';
import { flavorsOf } from '../../../src/cli/generate.js';
import { PROVIDERS } from '../../../src/cli/install/manifests.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, useTestNamespace } from '../../support/kube.js';
import { runCli } from './cli.js';

const namespace = useTestNamespace('cli-generate');
beforeAll(async () => installCRDs());

const EKS_ROLES = {
  EKS_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-control-plane',
  EKS_NODE_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-nodes',
};

const cases = PROVIDERS.flatMap((provider) => flavorsOf(provider).map((flavor) => ({ provider, flavor })));

describe('generate cluster', () => {
  it('has a template for every provider, and a flavour besides', () => {
    expect(cases.filter((c) => c.flavor === '').map((c) => c.provider)).toEqual([...PROVIDERS]);
    expect(cases.some((c) => c.flavor !== '')).toBe(true);
  });

  it('renders every provider and flavour into YAML that kubectl apply --dry-run=server accepts', async () => {
    // In parallel: each run is a process start-up, and they do not depend on each other.
    const results = await Promise.all(
      cases.map(async ({ provider, flavor }, i) => {
        const name = `gen-${i}`;
        const args = [
          'generate',
          'cluster',
          name,
          '--infrastructure',
          provider,
          '--target-namespace',
          namespace(),
        ];
        if (flavor) args.push('--flavor', flavor);
        if (provider !== 'aws-eks') args.push('--control-plane-machine-count', '3');
        args.push('--worker-machine-count', '4', '--kubernetes-version', 'v1.37.2');
        // One of them as JSON (a v1 List): kubectl takes that as well.
        if (provider === 'local' && !flavor) args.push('-o', 'json');
        const generated = await runCli(args, { env: { ...process.env, ...EKS_ROLES } });
        return { provider, flavor, name, generated };
      }),
    );
    for (const { provider, flavor, name, generated } of results) {
      const label = `${provider}${flavor ? ` --flavor ${flavor}` : ''}`;
      expect(generated.stderr, label).toBe('');
      expect(generated.code, label).toBe(0);
      if (provider === 'local' && !flavor) {
        const list = JSON.parse(generated.stdout);
        expect(list.kind).toBe('List');
        expect(list.items.map((o: any) => o.kind)).toEqual([
          'Cluster',
          'MachineTemplate',
          'ControlPlane',
          'MachineDeployment',
        ]);
      } else {
        expect(generated.stdout, label).toContain(`name: ${name}`);
        expect(generated.stdout, label).toContain('replicas: 4');
      }
      expect(generated.stdout, label).not.toContain('${');
      const applied = await kubectl(['apply', '--dry-run=server', '-f', '-'], { input: generated.stdout });
      expect(applied.stderr, label).toBe('');
      expect(applied.code, label).toBe(0);
      expect(applied.stdout, label).toContain(`cluster.clusterforge.dev/${name} created (server dry run)`);
      expect(applied.stdout, label).toMatch(
        /machinedeployment\.clusterforge\.dev\/\S+ created \(server dry run\)/,
      );
    }
  });

  it('fails with exit code 2 naming each missing variable (aws-eks without its IAM roles)', async () => {
    const env = { ...process.env };
    delete env.EKS_ROLE_ARN;
    delete env.EKS_NODE_ROLE_ARN;
    const [generated, listed] = await Promise.all([
      runCli(['generate', 'cluster', 'eks', '--infrastructure', 'aws-eks'], { env }),
      runCli(['generate', 'cluster', 'eks', '--infrastructure', 'aws-eks', '--list-variables'], { env }),
    ]);
    expect(generated.code).toBe(2);
    expect(generated.stdout).toBe('');
    expect(generated.stderr).toContain('EKS_ROLE_ARN');
    expect(generated.stderr).toContain('EKS_NODE_ROLE_ARN');
    expect(generated.stderr).toContain('fix:');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/EKS_ROLE_ARN\s+MISSING/);
    expect(listed.stdout).toMatch(/CLUSTER_NAME\s+set by NAME/);
    expect(listed.stdout).toMatch(/KUBERNETES_VERSION\s+default "v1\.\d+\.\d+"/);
  });

  it('generate cluster --infrastructure inmemory applies as it is, with its defaults and STARTUP_DELAY_SECONDS', async () => {
    const env = { ...process.env };
    delete env.WORKER_MACHINE_COUNT;
    delete env.STARTUP_DELAY_SECONDS;
    const [plain, slow, listed] = await Promise.all([
      runCli(['generate', 'cluster', 'sim', '-i', 'inmemory', '-n', namespace()], { env }),
      runCli(['generate', 'cluster', 'sim-slow', '-i', 'inmemory', '-n', namespace()], {
        env: { ...env, STARTUP_DELAY_SECONDS: '30' },
      }),
      runCli(['generate', 'cluster', 'sim', '-i', 'inmemory', '--list-variables'], { env }),
    ]);
    expect(listed.stdout).toMatch(/WORKER_MACHINE_COUNT\s+default "2"/);
    expect(listed.stdout).toMatch(/STARTUP_DELAY_SECONDS\s+default "0"/);
    for (const [name, generated, delay] of [
      ['sim', plain, 0],
      ['sim-slow', slow, 30],
    ] as const) {
      expect(generated.stderr, name).toBe('');
      expect(generated.code, name).toBe(0);
      // Applied for real, not as a dry run: what the API server stores is what the template says.
      const applied = await kubectl(['apply', '-f', '-'], { input: generated.stdout });
      expect(applied.stderr, name).toBe('');
      expect(applied.code, name).toBe(0);
      const stored = JSON.parse(
        (
          await kubectl([
            'get',
            '-n',
            namespace(),
            `cluster.clusterforge.dev/${name}`,
            `machinetemplate.clusterforge.dev/${name}-inmemory`,
            `machinedeployment.clusterforge.dev/${name}-workers`,
            '-o',
            'json',
          ])
        ).stdout,
      ).items;
      expect(stored[0].spec.infrastructure, name).toEqual({ inMemory: {} });
      expect(stored[1].spec.template.spec.inMemory, name).toEqual({ startupDelaySeconds: delay });
      expect(stored[2].spec.replicas, name).toBe(2);
      await kubectl(['delete', '-f', '-', '--wait=false'], { input: generated.stdout });
    }
  });

  it('refuses bad input with exit code 2 and the fix', async () => {
    const [badFlavor, badCount] = await Promise.all([
      runCli(['generate', 'cluster', 'x', '-i', 'aws-eks', '--flavor', 'nope']),
      runCli(['generate', 'cluster', 'x', '-i', 'local', '--control-plane-machine-count', '2']),
    ]);
    for (const r of [badFlavor, badCount]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(badFlavor.stderr).toContain('spot');
    expect(badCount.stderr).toContain('1, 3, 5 or 7');
  });
});
