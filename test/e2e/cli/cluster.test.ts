// A local cluster through the CLI, with the operator running in this process: generate it, get its
// kubeconfig (kubectl works with it), describe it in the middle of a scale-up, delete it and wait.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resources } from '../../../src/kube/resources.js';
import { KubeClient, resourcePath } from '../../../src/runtime/transport.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, useOperator, waitFor } from '../../support/operator.js';
import { processesMentioning } from '../../support/procs.js';
import { GatedProxy, runCli } from './cli.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('cli-cluster');
beforeAll(async () => installCRDs());
const operator = useOperator(namespace);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-cluster-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NAME = 'cli';
const kube = () => ['--kubeconfig', testKubeconfigPath(), '-n', namespace()];

describe('a local cluster through the CLI', () => {
  it('is generated and applied, and its kubeconfig works with kubectl', async () => {
    operator();
    const generated = await runCli([
      'generate',
      'cluster',
      NAME,
      '--infrastructure',
      'local',
      '--target-namespace',
      namespace(),
      '--worker-machine-count',
      '2',
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    const applied = await kubectl(['apply', '-f', '-'], { input: generated.stdout });
    expect(applied.code, applied.stderr).toBe(0);

    // While the cluster comes up (so at no cost in time): its kubeconfig is not there yet (exit code 3,
    // and the fix names describe), and a cluster that does not exist is exit code 3 too.
    const [early, missing] = await Promise.all([
      runCli(['get', 'kubeconfig', NAME, ...kube()]),
      runCli(['describe', 'cluster', 'nope', ...kube()]),
      waitConverged(kc, namespace(), NAME, 120_000),
    ]);
    if (early.code !== 0) {
      expect(early.code).toBe(3);
      expect(early.stderr).toContain(`see: clusterforge describe cluster ${NAME} -n ${namespace()}`);
    }
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`cluster nope not found in namespace ${namespace()}`);

    const got = await runCli(['get', 'kubeconfig', NAME, ...kube()]);
    expect(got.code, got.stderr).toBe(0);
    const path = join(dir, 'kubeconfig');
    await writeFile(path, got.stdout, { mode: 0o600 });
    const nodes = await kubectl(['get', 'nodes', '-o', 'name'], { kubeconfigPath: path });
    expect(nodes.stderr).toBe('');
    expect(nodes.stdout.trim().split('\n')).toHaveLength(2);

    // The merged file for Helmfile and kubectl: one context per cluster, named <cluster>-admin@<cluster>.
    const mergedPath = join(dir, 'merged.kubeconfig');
    const merged = await runCli(['get', 'kubeconfig', '--all', '--merge', '--file', mergedPath, ...kube()]);
    expect(merged.code, merged.stderr).toBe(0);
    const viaContext = await kubectl(['--context', `${NAME}-admin@${NAME}`, 'get', 'nodes', '-o', 'name'], {
      kubeconfigPath: mergedPath,
    });
    expect(viaContext.stderr).toBe('');
    expect(viaContext.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('describe shows the machines being created in the middle of a scale-up', async () => {
    // The CLI takes a moment to start; the operator provisions a local worker in about as long. So the
    // CLI's requests are held at a proxy while the scale happens, and let through as soon as the new
    // Machines exist: describe then sees the scale-up in progress, not its end.
    const proxy = await GatedProxy.start(kc.getCurrentCluster()!.server);
    try {
      const gated = join(dir, 'gated-kubeconfig');
      await proxy.writeKubeconfig(testKubeconfigPath(), gated);
      const described = runCli(['describe', 'cluster', NAME, '--kubeconfig', gated, '-n', namespace()]);
      await proxy.waitForConnection();
      await new KubeClient(kc).request({
        method: 'PATCH',
        path: resourcePath(resources.MachineDeployment, { namespace: namespace(), name: `${NAME}-workers` }),
        body: { spec: { replicas: 5 } },
        contentType: 'application/merge-patch+json',
      });
      await waitFor(
        'five worker Machines to exist',
        async () => {
          const workers = (await listObjects(kc, 'machines', namespace())).filter(
            (m) => m.spec.role === 'Worker',
          );
          return workers.length >= 5 ? workers : undefined;
        },
        { intervalMs: 20, timeoutMs: 30_000 },
      );
      proxy.open();
      const out = await described;
      expect(out.code, out.stderr).toBe(0);
      const lines = out.stdout.split('\n');
      expect(lines[0]).toMatch(/^NAME\s+READY\s+PHASE\s+REASON\s+AGE\s+MESSAGE$/);
      expect(lines[1]).toMatch(new RegExp(`^Cluster/${NAME}\\s`));
      expect(out.stdout).toMatch(/├─ControlPlane\/cli-control-plane\s+True/);
      expect(out.stdout).toMatch(/│ └─Machine\/cli-control-plane-\w+\s+True\s+Running/);
      const pool = lines.find((l) => l.includes('MachineDeployment/cli-workers'));
      expect(pool, out.stdout).toMatch(/False\s.*[0-4] of 5 machines ready/);
      // The new machines, not ready yet (grouped when several share a state), and the two old ones, Running.
      const machineLines = lines.filter(
        (l) => /└─|├─/.test(l) && /Machines?\b/.test(l) && l.startsWith('  '),
      );
      expect(
        machineLines.some((l) => /(Pending|Provisioning|Provisioned)/.test(l)),
        out.stdout,
      ).toBe(true);
      expect(out.stdout, out.stdout).toMatch(/Machines?(\/\S+)?\s+True\s+Running/);
      const shown = machineLines
        .map((l) => /(\d+) Machines/.exec(l)?.[1] ?? (/Machine\//.test(l) ? '1' : '0'))
        .reduce((a, b) => a + Number(b), 0);
      expect(shown, out.stdout).toBe(5);
    } finally {
      proxy.stop();
    }
  });

  it('describe --show-conditions all lists every condition of every object', async () => {
    await waitConverged(kc, namespace(), NAME, 60_000);
    const out = await runCli(['describe', 'cluster', NAME, ...kube(), '--show-conditions', 'all']);
    expect(out.code, out.stderr).toBe(0);
    const cluster = await getObject(kc, 'clusters', namespace(), NAME);
    for (const c of cluster.status.conditions)
      expect(out.stdout).toMatch(new RegExp(`├─${c.type}\\s+${c.status}`));
    // No grouping when machine conditions are shown: each of the 6 machines on its own line.
    expect(out.stdout.match(/Machine\/cli-/g)).toHaveLength(6);
    expect(out.stdout.match(/InfrastructureReady/g)!.length).toBeGreaterThanOrEqual(7);
  });

  it('delete cluster --wait shows each step until the cluster is gone, leaving no process', async () => {
    const { stateDir } = operator();
    const out = await runCli(['delete', 'cluster', NAME, ...kube(), '--wait', '--timeout', '90s'], {
      timeoutMs: 100_000,
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`cluster.clusterforge.dev/${NAME} deleted`);
    // One plain line per step (stdout is not a terminal), each from the Deleting condition.
    expect(out.stdout).not.toContain('\r');
    expect(out.stdout).toMatch(/\] WaitingForWorkers: waiting for MachineDeployment\/cli-workers/);
    expect(out.stdout).toMatch(new RegExp(`cluster ${namespace()}/${NAME} is gone`));
    expect(await getObject(kc, 'clusters', namespace(), NAME)).toBeUndefined();
    expect(await processesMentioning(join(stateDir, 'local', namespace()))).toEqual([]);
  });
});
