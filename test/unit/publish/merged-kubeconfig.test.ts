import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderKubeconfig } from '../../../src/pki/kubeconfig.js';
import { mergeKubeconfigs } from '../../../src/publish/merged-kubeconfig.js';

const published = (namespace: string, cluster: string, port: number) => ({
  namespace,
  cluster,
  kubeconfig: renderKubeconfig({
    clusterName: cluster,
    server: `https://127.0.0.1:${port}`,
    caData: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    token: `token-${cluster}-${namespace}`,
  }),
});

describe('mergeKubeconfigs', () => {
  it('gives each cluster its own <cluster>-admin@<cluster> context, server and credential', () => {
    const merged = parse(
      mergeKubeconfigs([published('prod', 'west', 6443), published('prod', 'east', 7443)]),
    );
    expect(merged.contexts.map((c: any) => c.name)).toEqual(['east-admin@east', 'west-admin@west']);
    const west = merged.contexts.find((c: any) => c.name === 'west-admin@west').context;
    expect(merged.clusters.find((c: any) => c.name === west.cluster).cluster.server).toBe(
      'https://127.0.0.1:6443',
    );
    expect(merged.users.find((u: any) => u.name === west.user).user.token).toBe('token-west-prod');
  });

  it('qualifies a cluster name found in two namespaces so that no name is shared', () => {
    const merged = parse(
      mergeKubeconfigs([published('a', 'dev', 1), published('b', 'dev', 2), published('a', 'ops', 3)]),
    );
    expect(merged.contexts.map((c: any) => c.name)).toEqual([
      'dev.a-admin@dev.a',
      'dev.b-admin@dev.b',
      'ops-admin@ops',
    ]);
    expect(new Set(merged.users.map((u: any) => u.name)).size).toBe(3);
  });
});
