// A deleted cluster takes its MachineTemplates with it (issue #13): each template a ControlPlane or
// MachineDeployment names gets an owner reference to its Cluster (not as controller, never blocking), and
// the Cluster's deletion deletes the templates nothing else owns or uses. The test API server runs no
// garbage collector, so what is gone here the operator removed. Re-creating the cluster with the same
// names and another template spec then works (it failed with "spec is immutable").

import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import type { RunningOperator } from '../../../src/operator/run.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, getObject, startTestOperator, waitFor } from '../../support/operator.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('template-cleanup');

/** The inmemory cluster template, rendered; `workersTemplate` makes its MachineDeployment use another. */
async function manifest(name: string, delay: string, workersTemplate?: string): Promise<string> {
  const text = renderTemplate(await readFile('templates/inmemory/cluster-template.yaml', 'utf8'), {
    CLUSTER_NAME: name,
    NAMESPACE: namespace(),
    CONTROL_PLANE_MACHINE_COUNT: '1',
    WORKER_MACHINE_COUNT: '1',
    STARTUP_DELAY_SECONDS: delay,
  });
  return parseAllDocuments(text)
    .map((d) => d.toJS())
    .map((o) => {
      if (workersTemplate && o.kind === 'MachineDeployment') o.spec.machineTemplateRef.name = workersTemplate;
      return stringify(o);
    })
    .join('---\n');
}

async function apply(text: string): Promise<void> {
  const applied = await kubectl(['apply', '-f', '-'], { input: text });
  expect(applied.stderr).toBe('');
  expect(applied.code).toBe(0);
}

const template = (name: string) => getObject(kc, 'machinetemplates', namespace(), name);

/** The Clusters a template's owner references name, with how they own it. */
async function owners(name: string): Promise<string[]> {
  const t = await template(name);
  return (t?.metadata.ownerReferences ?? []).map(
    (r: any) => `${r.kind}/${r.name} controller=${r.controller} block=${r.blockOwnerDeletion}`,
  );
}

describe.sequential('the MachineTemplates of a deleted cluster', () => {
  let operator: RunningOperator;

  beforeAll(async () => {
    await installCRDs(kc);
    operator = await startTestOperator(kc, namespace(), [new InMemoryProvider()]);
  }, 60_000);

  afterAll(async () => {
    for (const name of ['gc', 'keep']) {
      await kubectl(['delete', '-n', namespace(), `cluster.clusterforge.dev/${name}`, '--ignore-not-found']);
    }
    await operator?.stop();
  }, 60_000);

  it('are owned by the Clusters that use them, and deleted with the last of them', async () => {
    // gc's workers and keep's workers share gc's template; a template no cluster names is the user's.
    await apply(await manifest('gc', '0'));
    await apply(await manifest('keep', '0', 'gc-inmemory'));
    await apply(
      stringify({
        apiVersion: 'clusterforge.dev/v1alpha1',
        kind: 'MachineTemplate',
        metadata: { name: 'spare', namespace: namespace() },
        spec: { template: { spec: { inMemory: {} } } },
      }),
    );
    await waitConverged(kc, namespace(), 'gc', 60_000);
    await waitConverged(kc, namespace(), 'keep', 60_000);
    const shared = await waitFor('gc-inmemory owned by both Clusters', async () => {
      const o = await owners('gc-inmemory');
      return o.length === 2 ? o : undefined;
    });
    expect(shared.sort()).toEqual([
      'Cluster/gc controller=false block=false',
      'Cluster/keep controller=false block=false',
    ]);
    expect(await owners('keep-inmemory')).toEqual(['Cluster/keep controller=false block=false']);
    const gcUid = (await getObject(kc, 'clusters', namespace(), 'gc')).metadata.uid;
    expect((await template('gc-inmemory')).metadata.ownerReferences.map((r: any) => r.uid)).toContain(gcUid);

    // gc goes: its template stays for keep, which still uses it, and loses gc's reference.
    await deleteClusterAndWait(kc, namespace(), 'gc', 60_000);
    expect(await owners('gc-inmemory')).toEqual(['Cluster/keep controller=false block=false']);

    // keep goes: nothing uses either template now.
    await deleteClusterAndWait(kc, namespace(), 'keep', 60_000);
    expect(await template('gc-inmemory')).toBeUndefined();
    expect(await template('keep-inmemory')).toBeUndefined();
    expect(await template('spare')).toBeDefined();
  }, 180_000);

  it('lets the cluster be re-created with the same names and another template spec', async () => {
    await apply(await manifest('gc', '0'));
    await waitConverged(kc, namespace(), 'gc', 60_000);
    await waitFor('gc-inmemory owned by gc', async () =>
      (await owners('gc-inmemory')).length === 1 ? true : undefined,
    );
    await deleteClusterAndWait(kc, namespace(), 'gc', 60_000);
    expect(await template('gc-inmemory')).toBeUndefined();
    // The template's spec is immutable: this apply failed while the old template was left behind.
    await apply(await manifest('gc', '1'));
    const cluster = await waitConverged(kc, namespace(), 'gc', 60_000);
    expect(cluster.status.phase).toBe('Ready');
    expect((await template('gc-inmemory')).spec.template.spec.inMemory.startupDelaySeconds).toBe(1);
    await deleteClusterAndWait(kc, namespace(), 'gc', 60_000);
    expect(await template('gc-inmemory')).toBeUndefined();
  }, 180_000);
});
