// The runtime's HTTP client and the instrumented typed client against the shared API server.
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../../src/runtime/errors.js';
import { instrumentedApiClient, RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';

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
    expect(text).toContain('clusterforge_api_requests_total{verb="create",code="201"} 1');
    expect(text).toContain('clusterforge_api_requests_total{verb="get",code="200"} 1');
    expect(text).toContain('clusterforge_api_requests_total{verb="patch",code="200"} 1');
    expect(text).toContain('clusterforge_api_requests_total{verb="get",code="404"} 1');
    expect(text).toContain('clusterforge_api_requests_total{verb="create",code="409"} 1');
  });

  it('counts the requests of a typed client made by instrumentedApiClient', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const core = instrumentedApiClient(testKubeConfig(), CoreV1Api, metrics.observeApiRequest);
    await core.listNamespacedConfigMap({ namespace: namespace() });
    await core.readNamespacedConfigMap({ name: 'missing', namespace: namespace() }).catch(() => undefined);
    const text = (await metrics.text()).body;
    expect(text).toContain('clusterforge_api_requests_total{verb="list",code="200"} 1');
    expect(text).toContain('clusterforge_api_requests_total{verb="get",code="404"} 1');
  });
});
