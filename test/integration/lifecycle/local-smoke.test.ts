// A local cluster from the template reaches Ready, and its published kubeconfig works with kubectl.
import { readFile } from 'node:fs/promises';
import { CoreV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, useOperator, waitFor } from '../../support/operator.js';
import { writeKubeconfig } from '../../support/workload.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('local-smoke');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

describe('a local cluster', () => {
  it('comes up Ready from the template and its kubeconfig works', async () => {
    operator();
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: 'smoke',
      NAMESPACE: namespace(),
    });
    const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
    expect(applied.stderr).toBe('');
    const describe = async () =>
      JSON.stringify((await getObject(kc, 'clusters', namespace(), 'smoke'))?.status, null, 1);
    const phases: string[] = [];
    await waitFor(
      'Cluster smoke Ready',
      async () => {
        const c = await getObject(kc, 'clusters', namespace(), 'smoke');
        const phase = c?.status?.phase;
        if (phase && phases.at(-1) !== phase) phases.push(phase);
        return c?.status?.conditions?.find((x: any) => x.type === 'Ready' && x.status === 'True')
          ? c
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 50, describe },
    );
    // A person watching `kubectl get cfc -w` sees provisioning, then Ready: never Scaling or Failed.
    expect(phases.filter((p) => p !== 'Pending' && p !== 'Provisioning')).toEqual(['Ready']);
    const secret = await kc
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ name: 'smoke-kubeconfig', namespace: namespace() });
    expect(secret.type).toBe('cluster.x-k8s.io/secret');
    expect(secret.metadata?.labels?.['cluster.x-k8s.io/cluster-name']).toBe('smoke');
    const path = await writeKubeconfig(Buffer.from(secret.data!.value!, 'base64').toString('utf8'));
    const nodes = await kubectl(['get', 'nodes', '-o', 'name'], { kubeconfigPath: path });
    expect(nodes.stderr).toBe('');
    expect(nodes.stdout.trim().split('\n')).toHaveLength(2);
  });
});
