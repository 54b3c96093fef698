// The runtime's HTTP client and the instrumented typed client against the shared API server.
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { AgentPool } from '../../../src/runtime/agent-pool.js';
import { KubeApiError } from '../../../src/runtime/errors.js';
import { instrumentedApiClient, RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { TcpProxy } from './tcp-proxy.js';

describe('KubeClient and instrumented clients', () => {
  const namespace = useTestNamespace('rt-transport');

  it('sends requests, throws KubeApiError with the Status reason, and counts by verb and code', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const client = new KubeClient(testKubeConfig(), { observe: metrics.observeApiRequest });
    const path = `/api/v1/namespaces/${namespace()}/configmaps`;
    await client.request({ method: 'POST', path, body: { metadata: { name: 'one' }, data: { a: '1' } } });
    const got = await client.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `${path}/one`,
    });
    expect(got.data).toEqual({ a: '1' });
    await client.request({
      method: 'PATCH',
      path: `${path}/one`,
      contentType: 'application/merge-patch+json',
      body: { data: { b: '2' } },
    });
    const err = await client.request({ method: 'GET', path: `${path}/missing` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).code).toBe(404);
    expect((err as KubeApiError).reason).toBe('NotFound');
    const conflict = await client
      .request({ method: 'POST', path, body: { metadata: { name: 'one' } } })
      .catch((e: unknown) => e as KubeApiError);
    expect((conflict as KubeApiError).reason).toBe('AlreadyExists');

    const text = (await metrics.text()).body;
    expect(text).toContain(
      'clusterforge_api_requests_total{verb="create",code="201",resource="configmaps"} 1',
    );
    expect(text).toContain('clusterforge_api_requests_total{verb="get",code="200",resource="configmaps"} 1');
    expect(text).toContain(
      'clusterforge_api_requests_total{verb="patch",code="200",resource="configmaps"} 1',
    );
    expect(text).toContain('clusterforge_api_requests_total{verb="get",code="404",resource="configmaps"} 1');
    expect(text).toContain(
      'clusterforge_api_requests_total{verb="create",code="409",resource="configmaps"} 1',
    );
  });

  it('counts the requests of a typed client made by instrumentedApiClient', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const core = instrumentedApiClient(testKubeConfig(), CoreV1Api, metrics.observeApiRequest);
    await core.listNamespacedConfigMap({ namespace: namespace() });
    await core.readNamespacedConfigMap({ name: 'missing', namespace: namespace() }).catch(() => undefined);
    const text = (await metrics.text()).body;
    expect(text).toContain('clusterforge_api_requests_total{verb="list",code="200",resource="configmaps"} 1');
    expect(text).toContain('clusterforge_api_requests_total{verb="get",code="404",resource="configmaps"} 1');
  });

  it('keeps its connection: 20 requests and a watch on one, a dropped one replaced', async () => {
    const kc = testKubeConfig();
    const proxy = await TcpProxy.start(kc.getCurrentCluster()!.server);
    const agents = new AgentPool();
    try {
      const client = new KubeClient(proxy.kubeConfig(kc), { agents });
      const path = `/api/v1/namespaces/${namespace()}/configmaps`;
      for (let i = 0; i < 20; i++) await client.request({ method: 'GET', path });
      expect(proxy.accepted).toBe(1);

      // A watch borrows the kept connection; when it is aborted, only its own connection goes.
      const abort = new AbortController();
      const watching = client.watch({ path, signal: abort.signal, onEvent: () => undefined });
      await client.request({ method: 'GET', path }); // while the watch holds one: a second connection
      abort.abort(new Error('done'));
      await expect(watching).rejects.toThrow('done');
      expect(proxy.accepted).toBe(2);
      await client.request({ method: 'GET', path });
      expect(proxy.accepted).toBe(2);

      // The network drops every connection while idle: the next request works on a new one.
      proxy.dropAll();
      await new Promise((r) => setTimeout(r, 100));
      await client.request({ method: 'GET', path });
      expect(proxy.accepted).toBe(3);
    } finally {
      agents.destroy();
      await proxy.close();
    }
  });
});
