// The Helm chart on the real API server: `helm install --create-namespace` (taking over what `init`'s
// tests may have made, as a user moving from init to the chart would), an upgrade to 3 shards, and
// `helm uninstall`, which leaves the CRDs. No node runs here, so the Deployment is accepted, not rolled out. What the chart
// renders is compared with `init` in test/unit/chart/render.test.ts.
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART, type Helm, startHelm } from '../../support/helm.js';
import { kubectl, testKubeConfig, testKubeconfigPath, uniqueName } from '../../support/kube.js';

const kc = testKubeConfig();
const apps = kc.makeApiClient(AppsV1Api);
const ns = uniqueName('cf-helm');
const kube = ['--kubeconfig', testKubeconfigPath(), '--namespace', ns];
const NAME = 'clusterforge-operator';

let helm: Helm;
beforeAll(async () => {
  helm = await startHelm();
}, 900_000);

afterAll(async () => {
  if (!helm) return;
  await helm(['uninstall', 'clusterforge', ...kube, '--ignore-not-found']);
  await helm.dispose();
  // No garbage collector here: the namespace stays Terminating, as in init.test.ts.
  await kc
    .makeApiClient(CoreV1Api)
    .deleteNamespace({ name: ns })
    .catch(() => undefined);
});

describe('the Helm chart on the API server', () => {
  it('installs, upgrades to 3 shards and uninstalls, leaving the CRDs', async () => {
    // The release record needs its namespace before anything is made: --create-namespace makes it bare,
    // then the chart's Namespace gives it the labels. --take-ownership: init.test.ts may have made the
    // cluster-wide ClusterRole and binding, and adopting them is how a user moves from init to the chart.
    // --force-conflicts: the CRDs exist already, applied server-side by another field manager (the test
    // environment's kubectl, init's tests), and Helm 4 applies crds/ server-side too (docs/helm.md).
    const installed = await helm([
      'install',
      'clusterforge',
      CHART,
      ...kube,
      '--create-namespace',
      '--take-ownership',
      '--force-conflicts',
    ]);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toContain('STATUS: deployed');
    const deployment = await apps.readNamespacedDeployment({ name: NAME, namespace: ns });
    expect(deployment.spec?.replicas).toBe(1);
    expect(deployment.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
    const namespace = await kc.makeApiClient(CoreV1Api).readNamespace({ name: ns });
    expect(namespace.metadata?.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'app.kubernetes.io/managed-by': 'Helm',
    });
    const binding = await kc.makeApiClient(RbacAuthorizationV1Api).readClusterRoleBinding({ name: NAME });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: NAME, namespace: ns }]);

    const upgraded = await helm(['upgrade', 'clusterforge', CHART, ...kube, '--set', 'shards=3']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    const scaled = await apps.readNamespacedDeployment({ name: NAME, namespace: ns });
    expect(scaled.spec?.replicas).toBe(3);
    expect(scaled.spec?.template.spec?.containers[0]?.args).toContain('--shards=3');
    const role = await kc
      .makeApiClient(RbacAuthorizationV1Api)
      .readNamespacedRole({ name: `${NAME}-leader-election`, namespace: ns });
    expect(role.rules?.some((r) => r.verbs.includes('list') && r.resources?.includes('leases'))).toBe(true);

    const removed = await helm(['uninstall', 'clusterforge', ...kube]);
    expect(removed.code, removed.stderr).toBe(0);
    const gone = await apps
      .readNamespacedDeployment({ name: NAME, namespace: ns })
      .then(() => false)
      .catch((err: { code?: number }) => err.code === 404);
    expect(gone).toBe(true);
    // Helm never deletes the CRDs of crds/: uninstalling the operator leaves every Cluster in place.
    const crd = await kubectl(['get', 'crd', 'clusters.clusterforge.dev', '-o', 'name']);
    expect(crd.stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/clusters.clusterforge.dev');
  });
});
