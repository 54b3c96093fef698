// When each Cluster of a namespace first reported Ready, seen through one watch.
import { resources } from '../../../src/kube/resources.js';
import { Informer } from '../../../src/runtime/informer.js';
import type { KubeObject } from '../../../src/runtime/object-key.js';
import type { KubeClient } from '../../../src/runtime/transport.js';

const isReady = (c: any): boolean =>
  Boolean(
    c?.status?.conditions?.some(
      (x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True',
    ),
  );

export class ReadyTracker {
  private readonly informer: Informer<KubeObject>;
  /** Cluster name -> ms (performance.now()) when first seen Ready. */
  readonly readyAt = new Map<string, number>();

  constructor(client: KubeClient, namespace: string) {
    const { group, version, plural } = resources.Cluster;
    this.informer = new Informer({ group, version, plural, namespace, client });
    const look = (key: string): void => {
      const name = key.slice(key.indexOf('/') + 1);
      if (!this.readyAt.has(name) && isReady(this.informer.getByKey(key)))
        this.readyAt.set(name, performance.now());
    };
    this.informer.addHandler({ onAdd: look, onUpdate: look });
  }

  async start(): Promise<void> {
    this.informer.start();
    await this.informer.waitForSync({ timeoutMs: 30_000 });
  }

  /** Clusters in the cache now. */
  get count(): number {
    return this.informer.keys().length;
  }

  /** Seconds from `since` until the given share of `total` clusters was Ready; undefined if never. */
  secondsToShare(share: number, total: number, since: number): number | undefined {
    const times = [...this.readyAt.values()].sort((a, b) => a - b);
    const needed = Math.ceil(share * total);
    const t = times[needed - 1];
    return t === undefined ? undefined : (t - since) / 1000;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
