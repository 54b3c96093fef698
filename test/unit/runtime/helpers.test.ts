import { describe, expect, it } from 'vitest';
import { mapByLabel, mapToOwner } from '../../../src/runtime/controller.js';
import {
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  TerminalError,
  TransientError,
} from '../../../src/runtime/errors.js';
import { matchesLabels } from '../../../src/runtime/informer.js';
import { microTime } from '../../../src/runtime/leader-election.js';
import { createLogger, REDACTED } from '../../../src/runtime/log.js';
import { formatKey, keyOf, parseKey } from '../../../src/runtime/object-key.js';
import { kubeResource, kubeVerb, resourcePath } from '../../../src/runtime/transport.js';

describe('keys', () => {
  it('formats and parses namespace/name, and bare names of cluster-scoped objects', () => {
    expect(formatKey('ns', 'a')).toBe('ns/a');
    expect(formatKey('', 'node-1')).toBe('node-1');
    expect(parseKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(parseKey('node-1')).toEqual({ namespace: '', name: 'node-1' });
    expect(keyOf({ metadata: { namespace: 'ns', name: 'x' } })).toBe('ns/x');
  });

  it('matches labels', () => {
    const obj = { metadata: { labels: { a: '1', b: '2' } } };
    expect(matchesLabels(obj, { a: '1' })).toBe(true);
    expect(matchesLabels(obj, { a: '2' })).toBe(false);
    expect(matchesLabels({ metadata: {} }, { a: '1' })).toBe(false);
  });
});

describe('mapping functions', () => {
  it('maps by label to an object in the same namespace', () => {
    const map = mapByLabel('clusterforge.dev/cluster-name');
    const key = { namespace: 'ns', name: 'm1' };
    expect(map(key, { metadata: { labels: { 'clusterforge.dev/cluster-name': 'c1' } } })).toEqual([
      { namespace: 'ns', name: 'c1' },
    ]);
    expect(map(key, { metadata: {} })).toEqual([]);
  });

  it('maps to owners of a kind', () => {
    const map = mapToOwner('MachineDeployment', 'clusterforge.dev');
    const obj = {
      metadata: {
        ownerReferences: [
          { apiVersion: 'clusterforge.dev/v1alpha1', kind: 'MachineDeployment', name: 'md', uid: 'u' },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'v' },
        ],
      },
    };
    expect(map({ namespace: 'ns', name: 'm' }, obj)).toEqual([{ namespace: 'ns', name: 'md' }]);
  });
});

describe('transport helpers', () => {
  it('builds resource paths for the core group, other groups, namespaces and subresources', () => {
    expect(resourcePath({ group: '', version: 'v1', plural: 'configmaps' }, { namespace: 'ns' })).toBe(
      '/api/v1/namespaces/ns/configmaps',
    );
    expect(resourcePath({ group: 'clusterforge.dev', version: 'v1alpha1', plural: 'clusters' })).toBe(
      '/apis/clusterforge.dev/v1alpha1/clusters',
    );
    expect(
      resourcePath(
        { group: 'clusterforge.dev', version: 'v1alpha1', plural: 'clusters' },
        { namespace: 'ns', name: 'c', subresource: 'status' },
      ),
    ).toBe('/apis/clusterforge.dev/v1alpha1/namespaces/ns/clusters/c/status');
  });

  it('names Kubernetes verbs', () => {
    expect(kubeVerb('GET', '/api/v1/namespaces/ns/configmaps')).toBe('list');
    expect(kubeVerb('GET', '/api/v1/namespaces/ns/configmaps', { watch: 'true' })).toBe('watch');
    expect(kubeVerb('GET', '/api/v1/namespaces/ns/configmaps/a')).toBe('get');
    expect(kubeVerb('GET', '/api/v1/namespaces')).toBe('list');
    expect(kubeVerb('GET', '/api/v1/namespaces/ns')).toBe('get');
    expect(kubeVerb('GET', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l')).toBe('get');
    expect(kubeVerb('PUT', '/apis/coordination.k8s.io/v1/namespaces/ns/leases/l')).toBe('update');
    expect(kubeVerb('POST', '/api/v1/namespaces/ns/configmaps')).toBe('create');
    expect(kubeVerb('PATCH', '/apis/g/v1/namespaces/ns/things/a/status')).toBe('patch');
    expect(kubeVerb('DELETE', '/api/v1/namespaces/ns/configmaps')).toBe('deletecollection');
    expect(kubeVerb('DELETE', '/api/v1/namespaces/ns/configmaps/a')).toBe('delete');
  });

  it('names the resource of a path as plural.group, with its subresource', () => {
    expect(kubeResource('/api/v1/namespaces/ns/configmaps')).toBe('configmaps');
    expect(kubeResource('/api/v1/namespaces/ns/configmaps/a?watch=true')).toBe('configmaps');
    expect(kubeResource('/api/v1/namespaces')).toBe('namespaces');
    expect(kubeResource('/api/v1/namespaces/ns')).toBe('namespaces');
    expect(kubeResource('/apis/clusterforge.dev/v1alpha1/namespaces/ns/clusters/c/status')).toBe(
      'clusters.clusterforge.dev/status',
    );
    expect(kubeResource('/apis/coordination.k8s.io/v1/namespaces/ns/leases')).toBe(
      'leases.coordination.k8s.io',
    );
    expect(kubeResource('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x')).toBe(
      'customresourcedefinitions.apiextensions.k8s.io',
    );
    expect(kubeResource('/version')).toBe('-');
  });

  it('writes MicroTime with six fractional digits', () => {
    expect(microTime(new Date('2030-01-02T03:04:05.678Z'))).toBe('2030-01-02T03:04:05.678000Z');
  });
});

describe('errors', () => {
  it('classifies API errors by code', () => {
    expect(isNotFound(new KubeApiError(404, 'get', '/x', 'nope', 'NotFound'))).toBe(true);
    expect(isConflict(new KubeApiError(409, 'update', '/x', 'conflict', 'Conflict'))).toBe(true);
    expect(isGone(new KubeApiError(410, 'watch', '/x', 'too old', 'Expired'))).toBe(true);
    expect(isGone(new Error('x'))).toBe(false);
  });

  it('carries the retry hints', () => {
    expect(new TransientError('later', { requeueAfterMs: 5 }).requeueAfterMs).toBe(5);
    const terminal = new TerminalError('InvalidSpec', 'bad region');
    expect(terminal.reason).toBe('InvalidSpec');
    expect(terminal).toBeInstanceOf(Error);
  });
});

describe('log', () => {
  it('redacts secrets by path and keeps the rest', () => {
    const lines: string[] = [];
    const log = createLogger({
      level: 'debug',
      destination: { write: (line: string) => void lines.push(line) },
    });
    log.child({ controller: 'cluster' }).info(
      {
        key: 'ns/a',
        token: 'top-level-token',
        password: 'hunter2',
        user: { token: 'nested-token', name: 'admin' },
        secret: { data: { value: 'a2luZA==' }, name: 'c1-kubeconfig' },
        pair: { tls: { key: 'PRIVATE', crt: 'PUBLIC' } },
        kc: { cluster: { caData: 'CA' }, user: { clientKeyData: 'KEY' } },
        cfg: { kubeconfig: 'apiVersion: v1' },
      },
      'hello',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    for (const secret of [
      'top-level-token',
      'hunter2',
      'nested-token',
      'a2luZA==',
      'PRIVATE',
      'CA"',
      'KEY',
      'apiVersion: v1',
    ]) {
      expect(line).not.toContain(secret);
    }
    const parsed = JSON.parse(line);
    expect(parsed).toMatchObject({
      level: 'info',
      controller: 'cluster',
      key: 'ns/a',
      msg: 'hello',
      token: REDACTED,
      user: { token: REDACTED, name: 'admin' },
      secret: { data: REDACTED, name: 'c1-kubeconfig' },
      pair: { tls: { key: REDACTED, crt: 'PUBLIC' } },
    });
  });

  it('takes its level from LOG_LEVEL', () => {
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'warn';
    try {
      const lines: string[] = [];
      const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
      log.info('quiet');
      log.warn('loud');
      expect(lines).toHaveLength(1);
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });
});
