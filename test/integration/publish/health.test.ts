// What a GitOps tool waiting on Clusterforge's objects reads from them, from the first second: kstatus
// (sigs.k8s.io/cli-utils, Flux's health checks, built by hack/kstatus.sh) and the Argo CD health check
// in docs/gitops/, both on real objects of the test API server. A new object is in progress until the
// operator has observed it, even before any operator writes; one that only a person can move on is
// Failed (kstatus) and Degraded (Argo CD) at once.
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { installCRDs } from '../../support/crds.js';
import { kstatus } from '../../support/kstatus.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { runHealthCheck } from '../../support/lua.js';
import { getObject, useOperator, waitFor } from '../../support/operator.js';
import { clusterManifest } from './support.js';

const HEALTH = 'docs/gitops/argocd-health.lua';
const kc = testKubeConfig();
// No operator watches this namespace: what a tool sees before the operator's first status write.
const quiet = useTestNamespace('health-quiet');
const watched = useTestNamespace('health');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(watched);

const apply = async (manifest: string) => {
  const applied = await kubectl(
    ['apply', '--server-side', '--field-manager=argocd', '-o', 'json', '-f', '-'],
    {
      input: manifest,
    },
  );
  expect(applied.stderr).toBe('');
  const out = JSON.parse(applied.stdout);
  return (out.kind === 'List' ? out.items : [out]) as any[];
};

/** The objects a user applies for one cluster, plus a Machine, in namespace `ns`. */
async function oneOfEach(name: string, ns: string): Promise<string> {
  const machine = {
    apiVersion: 'clusterforge.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name: `${name}-m0`, namespace: ns },
    spec: {
      clusterName: name,
      role: 'Worker',
      version: 'v1.37.2',
      machineTemplateRef: { name: `${name}-local` },
    },
  };
  return `${await clusterManifest(name, ns)}---\n${stringify(machine)}`;
}

describe('before the operator has written anything', () => {
  it('every new object is InProgress for kstatus, from the create response on, and Progressing for Argo CD', async () => {
    const created = await apply(await oneOfEach('fresh', quiet()));
    expect(created.map((o) => o.kind).sort()).toEqual([
      'Cluster',
      'ControlPlane',
      'Machine',
      'MachineDeployment',
      'MachineTemplate',
    ]);
    for (const o of created.filter((o) => o.kind !== 'MachineTemplate')) {
      const plural = `${o.kind.toLowerCase()}s`;
      for (const [when, seen] of [
        ['apply response', o],
        ['read back', await getObject(kc, plural, quiet(), o.metadata.name)],
      ]) {
        expect(seen.status, `${o.kind} ${when}`).toEqual({ observedGeneration: 0 });
        expect(kstatus(seen), `${o.kind} ${when}`).toEqual({
          status: 'InProgress',
          message: `${o.kind} generation is 1, but latest observed generation is 0`,
        });
      }
    }
    const cluster = await getObject(kc, 'clusters', quiet(), 'fresh');
    expect(runHealthCheck(HEALTH, cluster)).toEqual({
      status: 'Progressing',
      message: 'Waiting for the operator to observe generation 1',
    });
    // The default is the API server's, owned by no one: the next sync shows no diff.
    const diff = await kubectl(['diff', '--server-side', '--field-manager=argocd', '-f', '-'], {
      input: await oneOfEach('fresh', quiet()),
    });
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
  });

  it('Argo CD shows the Ready message of an operator that has looked but not reconciled yet', async () => {
    // As the operator's waitFor writes it: Ready for this generation, status.observedGeneration not yet.
    const ready = {
      type: 'Ready',
      status: 'False',
      reason: 'WaitingForCluster',
      message: 'no Cluster names this ControlPlane in spec.controlPlaneRef',
      observedGeneration: 1,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const patched = await kubectl([
      'patch',
      'controlplanes.clusterforge.dev',
      'fresh-control-plane',
      '-n',
      quiet(),
      '--subresource=status',
      '--type=merge',
      '-o',
      'json',
      '-p',
      JSON.stringify({ status: { conditions: [ready] } }),
    ]);
    expect(patched.stderr).toBe('');
    const cp = JSON.parse(patched.stdout);
    expect(cp.status.observedGeneration).toBe(0);
    expect(runHealthCheck(HEALTH, cp)).toEqual({
      status: 'Progressing',
      message: 'WaitingForCluster: no Cluster names this ControlPlane in spec.controlPlaneRef',
    });
    expect(kstatus(cp).status).toBe('InProgress');
  });
});

describe('a cluster only a person can move on', () => {
  it('is Failed for kstatus and Degraded for Argo CD, with the fix, as soon as the operator has looked', async () => {
    operator();
    // A local control plane runs as machines: without machineTemplateRef it can never start.
    const manifest = parseAllDocuments(await clusterManifest('stuck', watched()))
      .map((d) => d.toJS())
      .map((o) => {
        if (o.kind === 'ControlPlane') delete o.spec.machineTemplateRef;
        return stringify(o);
      })
      .join('---\n');
    await apply(manifest);
    const stalled = (c: any) =>
      c?.status?.conditions?.find((x: any) => x.type === 'Stalled' && x.status === 'True');
    const cp = await waitFor('the ControlPlane to be Stalled', async () => {
      const o = await getObject(kc, 'controlplanes', watched(), 'stuck-control-plane');
      return stalled(o) ? o : undefined;
    });
    expect(kstatus(cp)).toEqual({ status: 'Failed', message: expect.stringMatching(/machineTemplateRef/) });
    const cluster = await waitFor('the Cluster to be Stalled', async () => {
      const o = await getObject(kc, 'clusters', watched(), 'stuck');
      return stalled(o) ? o : undefined;
    });
    expect(stalled(cluster).reason).toBe('MachineTemplateRequired');
    expect(kstatus(cluster)).toEqual({
      status: 'Failed',
      message: expect.stringMatching(/^ControlPlane stuck-control-plane: .*machineTemplateRef/),
    });
    expect(runHealthCheck(HEALTH, cluster)).toEqual({
      status: 'Degraded',
      message: expect.stringMatching(/^MachineTemplateRequired: ControlPlane stuck-control-plane: /),
    });
  }, 60_000);
});
