import { describe, expect, it } from 'vitest';
import { observeProviderCall, RuntimeMetrics } from '../../../src/runtime/metrics.js';

describe('RuntimeMetrics', () => {
  it('counts provider calls by the outcome of their Progress, and errors', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    await observeProviderCall('local', 'ensureInfrastructure', async () => ({ state: 'done' }), metrics);
    await observeProviderCall(
      'local',
      'ensureInfrastructure',
      async () => ({ progress: { state: 'inProgress', requeueAfterMs: 1, message: 'm' } }),
      metrics,
    );
    await expect(
      observeProviderCall('local', 'ensureMachine', async () => Promise.reject(new Error('boom')), metrics),
    ).rejects.toThrow('boom');
    const text = (await metrics.text()).body;
    expect(text).toContain(
      'clusterforge_provider_calls_total{provider="local",operation="ensureInfrastructure",outcome="done"} 1',
    );
    expect(text).toContain(
      'clusterforge_provider_calls_total{provider="local",operation="ensureInfrastructure",outcome="inProgress"} 1',
    );
    expect(text).toContain(
      'clusterforge_provider_calls_total{provider="local",operation="ensureMachine",outcome="error"} 1',
    );
    expect(text).toContain(
      'clusterforge_provider_call_duration_seconds_count{provider="local",operation="ensureInfrastructure"} 2',
    );
  });

  it('reports the depth of tracked queues, summed per name, until untracked', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    const untrack = metrics.trackQueue('cluster', { len: () => 3, inFlight: () => 1 });
    metrics.trackQueue('cluster', { len: () => 2, inFlight: () => 0 });
    let text = (await metrics.text()).body;
    expect(text).toContain('clusterforge_workqueue_depth{name="cluster"} 5');
    expect(text).toContain('clusterforge_workqueue_in_flight{name="cluster"} 1');
    untrack();
    text = (await metrics.text()).body;
    expect(text).toContain('clusterforge_workqueue_depth{name="cluster"} 2');
  });

  it('counts reconciles and errors', async () => {
    const metrics = new RuntimeMetrics({ processMetrics: false });
    metrics.observeReconcile('cluster', 'success', 10);
    metrics.observeReconcile('cluster', 'error', 10);
    metrics.observeReconcile('cluster', 'terminal', 10);
    const text = (await metrics.text()).body;
    expect(text).toContain('clusterforge_reconcile_total{controller="cluster",result="success"} 1');
    expect(text).toContain('clusterforge_reconcile_errors_total{controller="cluster"} 2');
    expect(text).toContain('clusterforge_reconcile_duration_seconds_count{controller="cluster"} 3');
  });
});
