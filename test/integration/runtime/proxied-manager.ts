// A runtime Manager that reaches the test API server through a TcpProxy, so that a test can take the
// server away (proxy.down()) and give it back: the set-up of the outage tests.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Manager, type ManagerOptions } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { testKubeConfig } from '../../support/kube.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ProxiedManager {
  proxy: TcpProxy;
  /** The test kubeconfig pointed at the proxy. */
  kc: KubeConfig;
  manager: Manager;
}

/** Starts the proxy and builds the Manager; `cleanup` gets what stops them, last first. */
export async function proxiedManager(
  cleanup: Array<() => Promise<void>>,
  opts: { log: Logger; informerDefaults?: ManagerOptions['informerDefaults'] },
): Promise<ProxiedManager> {
  const proxy = await TcpProxy.start(testKubeConfig().getCurrentCluster()?.server ?? '');
  cleanup.push(() => proxy.close());
  const kc = proxy.kubeConfig(testKubeConfig());
  const manager = new Manager({
    kubeConfig: kc,
    log: opts.log,
    address: null,
    metrics: new RuntimeMetrics({ processMetrics: false }),
    ...(opts.informerDefaults ? { informerDefaults: opts.informerDefaults } : {}),
  });
  cleanup.push(() => manager.stop());
  return { proxy, kc, manager };
}
