// Cluster definitions are GitOps-safe: applied with server-side apply as Argo CD applies them, they
// reconcile to Ready without a field changing hands and show no diff on the next sync; pruned in
// either order they tear down completely; and the Argo CD health check in docs/gitops/ reads their
// real status as Progressing, Healthy and Degraded, as kstatus (Flux) reads it as InProgress, Current and Failed.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { GROUP, VERSION } from '../../../src/api/v1alpha1/meta.js';
import { kubeVersions } from '../../env/assets.js';
import { waitConverged } from '../../support/converge.js';
import { installCRDs } from '../../support/crds.js';
import { kstatus } from '../../support/kstatus.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { runHealthCheck } from '../../support/lua.js';
import { getObject, listObjects, useOperator, waitFor } from '../../support/operator.js';
import { processesMentioning } from '../../support/procs.js';
import { clusterManifest } from './support.js';

const HEALTH = 'docs/gitops/argocd-health.lua';
const kc = testKubeConfig();
const custom = kc.makeApiClient(CustomObjectsApi);
const namespace = useTestNamespace('gitops');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);

const PLURALS: Record<string, string> = {
  Cluster: 'clusters',
  ControlPlane: 'controlplanes',
  MachineTemplate: 'machinetemplates',
  MachineDeployment: 'machinedeployments',
};

const argo = (args: string[], input: string) =>
  kubectl([...args, '--field-manager=argocd', '-f', '-'], { input });
const syncApply = (manifest: string) => argo(['apply', '--server-side'], manifest);
const syncDiff = (manifest: string) => argo(['diff', '--server-side'], manifest);

async function live(manifest: string): Promise<any[]> {
  const out: any[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJS();
    out.push(
      await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: o.metadata.namespace,
        plural: PLURALS[o.kind]!,
        name: o.metadata.name,
      }),
    );
  }
  return out;
}

/** The managers of an object and the top-level fields each owns, e.g. `argocd:Apply` -> [f:metadata, f:spec]. */
function owners(o: any): Record<string, any> {
  const out: Record<string, any> = {};
  for (const m of o.metadata.managedFields ?? []) {
    out[`${m.manager}:${m.operation}${m.subresource ? `/${m.subresource}` : ''}`] = m.fieldsV1;
  }
  return out;
}

/** The objects of a manifest in an order, as `kubectl delete` arguments. */
function only(manifest: string, kinds: string[]): string {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS())
    .filter((o) => kinds.includes(o.kind))
    .map((o) => stringify(o))
    .join('---\n');
}

async function gone(name: string, stateDir: string): Promise<void> {
  await waitFor(
    `every object of ${name} to be gone`,
    async () => {
      for (const plural of [
        'clusters',
        'controlplanes',
        'machinedeployments',
        'machines',
        'machinetemplates',
      ]) {
        const left = (await listObjects(kc, plural, namespace())).filter(
          (o) => o.metadata.name === name || o.metadata.name.startsWith(`${name}-`),
        );
        if (left.length > 0) return undefined;
      }
      return true;
    },
    {
      timeoutMs: 90_000,
      describe: async () =>
        JSON.stringify(
          (await listObjects(kc, 'machines', namespace())).map((m) => [m.metadata.name, m.status?.phase]),
        ),
    },
  );
  const secrets = await kubectl(['get', 'secrets', '-n', namespace(), '-o', 'name']);
  expect(secrets.stdout.split('\n').filter((s) => s.includes(`/${name}-`))).toEqual([]);
  expect((await processesMentioning(`/${namespace()}/${name}/`)).map((p) => p.cmdline)).toEqual([]);
  expect(stateDir).toBeTruthy();
}

describe('clusters applied from Git', () => {
  const seen: Record<string, any> = {};

  it('reconcile to Ready with no field changing hands, and the next sync shows no diff', async () => {
    operator();
    const [, previous] = kubeVersions();
    const a = await clusterManifest('git-a', namespace());
    const b = await clusterManifest('git-b', namespace());
    // A version with no binaries: the cluster goes Failed, for the Degraded health check.
    const broken = (await clusterManifest('git-bad', namespace(), {}, 0)).replaceAll(
      /v1\.\d+\.\d+/g,
      previous!.replace(/\.\d+$/, '.0'),
    );
    for (const m of [a, b, broken]) {
      const applied = await syncApply(m);
      expect(applied.stderr).toBe('');
      expect(applied.stdout).toContain('serverside-applied');
    }
    seen.fresh = await getObject(kc, 'clusters', namespace(), 'git-a');
    await waitFor('git-a to start provisioning', async () => {
      const c = await getObject(kc, 'clusters', namespace(), 'git-a');
      return c?.status?.phase === 'Provisioning' ? c : undefined;
    }).then((c) => {
      seen.provisioning = c;
    });
    seen.ready = await waitConverged(kc, namespace(), 'git-a', 120_000);
    await waitConverged(kc, namespace(), 'git-b', 120_000);
    seen.failed = await waitFor('git-bad to be Failed', async () => {
      const c = await getObject(kc, 'clusters', namespace(), 'git-bad');
      return c?.status?.phase === 'Failed' ? c : undefined;
    });

    const before = await live(a);
    for (const o of before) {
      // The operator never wrote spec: generation 1, and only the GitOps tool owns spec fields.
      expect(o.metadata.generation, `${o.kind} generation`).toBe(1);
      for (const [manager, fields] of Object.entries(owners(o))) {
        if (manager === 'argocd:Apply') {
          expect(Object.keys(fields)).toContain('f:spec');
          continue;
        }
        expect(manager, `${o.kind}: a manager other than argocd`).toMatch(/^clusterforge:Update/);
        expect(Object.keys(fields), `${o.kind}: what ${manager} owns`).not.toContain('f:spec');
        if (!manager.endsWith('/status')) {
          // Besides status, the operator owns its finalizer and nothing else; of a MachineTemplate (no
          // finalizer, no status), its owner reference to the Cluster.
          const own = o.kind === 'MachineTemplate' ? 'f:ownerReferences' : 'f:finalizers';
          expect(fields).toEqual({ 'f:metadata': { [own]: expect.any(Object) } });
        }
      }
    }

    // The next sync: the same manifest applied again changes nothing and takes nothing over.
    const diff = await syncDiff(a);
    expect(diff.stderr).toBe('');
    expect(diff.stdout).toBe('');
    expect(diff.code).toBe(0);
    const again = await syncApply(a);
    expect(again.stderr).toBe('');
    const after = await live(a);
    for (const [i, o] of after.entries()) {
      expect(o.metadata.generation).toBe(1);
      expect(owners(o)).toEqual(owners(before[i]));
    }
  }, 240_000);

  it('the Argo CD health check reads those real status objects as Progressing, Healthy and Degraded', () => {
    const fresh = runHealthCheck(HEALTH, seen.fresh);
    expect(fresh.status).toBe('Progressing');
    const provisioning = runHealthCheck(HEALTH, seen.provisioning);
    expect(provisioning).toEqual({
      status: 'Progressing',
      message: expect.stringMatching(/^Provisioning: /),
    });
    expect(runHealthCheck(HEALTH, seen.ready)).toEqual({ status: 'Healthy', message: 'Ready' });
    const failed = runHealthCheck(HEALTH, seen.failed);
    expect(failed.status).toBe('Degraded');
    expect(failed.message).toMatch(/^BinariesNotFound: /);
    // A new generation the operator has not looked at yet is Progressing again, whatever the status says.
    const newer = structuredClone(seen.ready);
    newer.metadata.generation += 1;
    expect(runHealthCheck(HEALTH, newer).status).toBe('Progressing');
    const pausedFromGit = structuredClone(seen.ready);
    pausedFromGit.status.phase = 'Paused';
    expect(runHealthCheck(HEALTH, pausedFromGit).status).toBe('Suspended');
  });

  it('kstatus (Flux) reads them as InProgress until Ready, Current when Ready, Failed when Failed', () => {
    expect(kstatus(seen.fresh).status).toBe('InProgress');
    expect(kstatus(seen.provisioning)).toEqual({
      status: 'InProgress',
      message: expect.stringMatching(
        /^(InfrastructureReady|ControlPlaneReady|WorkersReady|KubeconfigPublished)/,
      ),
    });
    expect(kstatus(seen.ready)).toEqual({ status: 'Current', message: 'Resource is Ready' });
    expect(kstatus(seen.failed)).toEqual({ status: 'Failed', message: seen.failed.status.failureMessage });
  });

  it('tears down completely when pruned children first, then the Cluster', async () => {
    const a = await clusterManifest('git-a', namespace());
    const children = only(a, ['MachineDeployment', 'ControlPlane', 'MachineTemplate']);
    expect((await kubectl(['delete', '--wait=false', '-f', '-'], { input: children })).stderr).toBe('');
    // Argo CD sees the Cluster lose its health while its children go.
    const orphaned = await waitFor('git-a to notice', async () => {
      const c = await getObject(kc, 'clusters', namespace(), 'git-a');
      return runHealthCheck(HEALTH, c).status === 'Progressing' ? c : undefined;
    });
    expect(runHealthCheck(HEALTH, orphaned).message).toMatch(/ControlPlane/);
    expect(
      (await kubectl(['delete', '--wait=false', '-f', '-'], { input: only(a, ['Cluster']) })).stderr,
    ).toBe('');
    await gone('git-a', operator().stateDir);
  }, 120_000);

  it('tears down completely when pruned Cluster first, then the rest', async () => {
    for (const name of ['git-b', 'git-bad']) {
      const m = await clusterManifest(name, namespace());
      expect(
        (await kubectl(['delete', '--wait=false', '-f', '-'], { input: only(m, ['Cluster']) })).stderr,
      ).toBe('');
      // The Cluster's own deletion may have taken some of them already, as a prune may find.
      const rest = only(m, ['MachineDeployment', 'ControlPlane', 'MachineTemplate']);
      const pruned = await kubectl(['delete', '--wait=false', '--ignore-not-found', '-f', '-'], {
        input: rest,
      });
      expect(pruned.stderr).toBe('');
    }
    await gone('git-b', operator().stateDir);
    await gone('git-bad', operator().stateDir);
    expect(await processesMentioning(operator().stateDir)).toEqual([]);
  }, 120_000);
});
