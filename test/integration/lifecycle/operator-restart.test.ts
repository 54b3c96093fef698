// The operator is killed (SIGKILL) in the middle of provisioning, twice (a control-plane machine
// up, then a kubelet worker starting), and started again: the cluster converges, and no Machine and
// no process is created twice.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/templates/render.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, testKubeconfigPath, useTestNamespace } from '../../support/kube.js';
import { removeNodesUnder } from '../../support/kubelet-nodes.js';
import { listObjects, waitFor } from '../../support/operator.js';
import { type OperatorProcess, spawnOperator } from '../../support/operator-process.js';
import { processesMentioning } from '../../support/procs.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('restart');
let stateDir = '';
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  await installCRDs(kc);
  stateDir = await mkdtemp(join(tmpdir(), 'clusterforge-restart-'));
});
afterAll(async () => {
  await operator?.kill();
  await kubectl(['delete', '-n', namespace(), 'cluster.clusterforge.dev/restart', '--wait=false']);
  // Start one more operator to tear the cluster down, so no process outlives the test.
  const cleaner = spawnOperator({
    kubeconfigPath: testKubeconfigPath(),
    namespace: namespace(),
    stateDir,
    logFile: join(stateDir, 'cleanup.log'),
  });
  await waitFor(
    'teardown',
    async () => ((await listObjects(kc, 'clusters', namespace())).length === 0 ? true : undefined),
    {
      timeoutMs: 60_000,
    },
  ).finally(() => cleaner.kill('SIGTERM'));
  await removeNodesUnder(stateDir);
  await rm(stateDir, { recursive: true, force: true });
});

describe('an operator killed mid-provisioning', () => {
  it('resumes after a restart without making any Machine or process twice', async () => {
    const start = () =>
      spawnOperator({
        kubeconfigPath: testKubeconfigPath(),
        namespace: namespace(),
        stateDir,
        logFile: join(stateDir, 'operator.log'),
      });
    operator = start();
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const machines = await listObjects(kc, 'machines', namespace()).catch(() => []);
        for (const m of machines) seen.add(m.metadata.uid);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: 'restart',
      NAMESPACE: namespace(),
    });
    expect((await kubectl(['apply', '-f', '-'], { input: manifest })).stderr).toBe('');

    // Kill it once the control-plane machine has its processes (providerID set) and before Ready.
    await waitFor('a control-plane machine with a provider ID', async () => {
      const machines = await listObjects(kc, 'machines', namespace());
      return machines.some((m) => m.spec.role === 'ControlPlane' && m.spec.providerID) ? true : undefined;
    });
    expect(await operator.kill('SIGKILL')).toBeNull();
    const clusterBefore = (await listObjects(kc, 'clusters', namespace()))[0];
    expect(clusterBefore.status?.phase).not.toBe('Ready');

    operator = start();
    // And once more, while a kubelet worker is being made: its node-init.sh has just started.
    const clusterDir = join(stateDir, 'local', namespace(), 'restart');
    await waitFor(
      'a kubelet worker starting',
      async () =>
        (await processesMentioning(clusterDir)).some((p) => p.cmdline.includes('node-init.sh'))
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    expect(await operator.kill('SIGKILL')).toBeNull();
    operator = start();
    await waitConverged(kc, namespace(), 'restart', 120_000);
    watching = false;
    await watcher;

    const machines = await listObjects(kc, 'machines', namespace());
    expect(machines).toHaveLength(3);
    expect(seen.size).toBe(3);
    const procs = await processesMentioning(clusterDir);
    const count = (what: string) => procs.filter((p) => p.cmdline.includes(what)).length;
    expect(count('etcd --name=')).toBe(1);
    expect(count('kube-apiserver --')).toBe(1);
    expect(count('kube-controller-manager --')).toBe(1);
    expect(count('kube-scheduler --')).toBe(1);
    // Exactly one node (node-init.sh, containerd, kubelet) per worker Machine.
    for (const worker of machines.filter((m) => m.spec.role === 'Worker')) {
      const node = join(clusterDir, 'machines', worker.metadata.name, 'node');
      expect(count(`node-init.sh ${node}`)).toBe(1);
      expect(count(`containerd --config ${node}/`)).toBe(1);
      expect(count(`--config=${node}/kubelet-config.yaml`)).toBe(1);
    }
  }, 240_000);
});
