// What the API server cannot refuse is said at once on the object: a ControlPlane without
// spec.machineTemplateRef for a provider that runs the control plane as machines is Stalled, with the
// fix in its message, within seconds of being applied, and no machine is made for it.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { InMemoryProvider } from '../../../providers/inmemory/provider.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { getObject, listObjects, useTestOperator, waitFor } from '../../support/operator.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('stalled');
const NAME = 'no-template';

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

describe('a self-managed ControlPlane without a machine template', () => {
  useTestOperator(kc, namespace, () => [new InMemoryProvider()]);

  it('is Stalled at once, says how to fix it, and gets no machine', async () => {
    const text = renderTemplate(await readFile('templates/inmemory/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: NAME,
      NAMESPACE: namespace(),
    });
    const manifest = parseAllDocuments(text)
      .map((doc) => {
        const obj = doc.toJS();
        if (obj.kind === 'ControlPlane') delete obj.spec.machineTemplateRef;
        return stringify(obj);
      })
      .join('---\n');
    const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
    expect(applied.stderr).toBe('');
    const appliedAt = Date.now();

    const cp = await waitFor(
      'the ControlPlane to be Stalled',
      async () => {
        const o = await getObject(kc, 'controlplanes', namespace(), `${NAME}-control-plane`);
        return condition(o, 'Stalled')?.status === 'True' ? o : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250 },
    );
    expect(Date.now() - appliedAt).toBeLessThan(15_000);
    const stalled = condition(cp, 'Stalled');
    expect(stalled.reason).toBe('MachineTemplateRequired');
    expect(stalled.message).toContain('create it again with spec.machineTemplateRef');
    expect(condition(cp, 'Ready')).toMatchObject({ status: 'False', reason: 'MachineTemplateRequired' });

    // The Warning event is recorded asynchronously, just after the status.
    await waitFor(
      'a Warning event MachineTemplateRequired',
      async () => {
        const events = await kubectl([
          'get',
          'events',
          '-n',
          namespace(),
          '--field-selector',
          `involvedObject.name=${NAME}-control-plane,type=Warning`,
          '-o',
          'jsonpath={.items[*].reason}',
        ]);
        return events.stdout.includes('MachineTemplateRequired') ? true : undefined;
      },
      { timeoutMs: 10_000 },
    );
    const machines = await listObjects(kc, 'machines', namespace());
    expect(machines.filter((m) => m.spec.role === 'ControlPlane')).toEqual([]);
  }, 60_000);
});
