// The event recorder against the shared API server: events.k8s.io/v1 Events on an object, identical ones
// folded into a series, and failures that never reach the caller.
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../../src/runtime/events.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';

interface EventObject {
  metadata: { name: string; namespace: string };
  type: string;
  reason: string;
  note?: string;
  action: string;
  reportingController: string;
  reportingInstance: string;
  regarding: { kind: string; name: string; namespace: string; uid: string };
  series?: { count: number; lastObservedTime: string };
}

describe('EventRecorder', () => {
  const namespace = useTestNamespace('rt-events', { scope: 'each' });

  async function configMap(name: string): Promise<V1ConfigMap> {
    const created = await testKubeConfig()
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: namespace(), body: { metadata: { name } } });
    return { ...created, apiVersion: 'v1', kind: 'ConfigMap' };
  }

  async function listEvents(client: KubeClient): Promise<EventObject[]> {
    const list = await client.request<{ items: EventObject[] }>({
      method: 'GET',
      path: `/apis/events.k8s.io/v1/namespaces/${namespace()}/events`,
    });
    return list.items;
  }

  it('writes events on an object and folds identical ones into a series', async () => {
    const client = new KubeClient(testKubeConfig());
    const recorder = new EventRecorder({
      client,
      controller: 'clusterforge.dev/test-controller',
      instance: 'test-instance',
      seriesPatchIntervalMs: 0,
    });
    const cm = await configMap('target');

    recorder.normal(cm, 'Provisioning', 'started the infrastructure');
    recorder.warning(cm, 'ProviderFailed', 'the provider said no');
    recorder.warning(cm, 'ProviderFailed', 'the provider said no');
    recorder.warning(cm, 'ProviderFailed', 'the provider said no');
    await recorder.flush();

    const events = await listEvents(client);
    expect(events).toHaveLength(2);
    const normal = events.find((e) => e.reason === 'Provisioning') as EventObject;
    expect(normal).toMatchObject({
      type: 'Normal',
      note: 'started the infrastructure',
      action: 'Provisioning',
      reportingController: 'clusterforge.dev/test-controller',
      reportingInstance: 'test-instance',
      regarding: { kind: 'ConfigMap', name: 'target', namespace: namespace(), uid: cm.metadata?.uid },
    });
    expect(normal.series).toBeUndefined();
    const warning = events.find((e) => e.reason === 'ProviderFailed') as EventObject;
    expect(warning.type).toBe('Warning');
    expect(warning.series?.count).toBe(3);
  });

  it('holds series updates back for the patch interval, and flush() sends them', async () => {
    const client = new KubeClient(testKubeConfig());
    const recorder = new EventRecorder({
      client,
      controller: 'clusterforge.dev/test-controller',
      instance: 'i',
    });
    const cm = await configMap('target');
    for (let i = 0; i < 5; i++) recorder.normal(cm, 'Waiting', 'waiting for the control plane');
    await recorder.flush();
    const events = await listEvents(client);
    expect(events).toHaveLength(1);
    expect(events[0]?.series?.count).toBe(5);
  });

  it('never throws into the caller when the API refuses the event', async () => {
    const client = new KubeClient(testKubeConfig());
    // Not a qualified name: the API server refuses the Event.
    const recorder = new EventRecorder({ client, controller: 'not a valid controller name!', instance: 'i' });
    const cm = await configMap('target');
    expect(() => recorder.warning(cm, 'Bad', 'refused')).not.toThrow();
    await recorder.flush();
    expect(await listEvents(client)).toHaveLength(0);
    // A reference to a namespace that does not exist: refused too, still quiet.
    expect(() =>
      recorder.normal(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'no-such-namespace-x', name: 'x' },
        'R',
        'n',
      ),
    ).not.toThrow();
    await recorder.flush();
  });
});
