// Real etcd members standing in for kubeadm's stacked etcd on aws-ec2 nodes the emulator never
// boots: one pod `kube-system/etcd-<nodeName>` per control-plane node, as kubeadm names its static
// pods, all on one real kubelet node of a local cluster, each in its own network namespace (so each
// serves 2379 as on its own machine), with a serving certificate from the cluster's etcd CA that
// names the node. This helper does kubeadm's part (`kubeadm init` founds, `kubeadm join
// --control-plane` adds a learner, starts it and promotes it) and reads the members independently
// of the provider: through `kubectl port-forward`.
// Stand-in shortcuts: peers talk plain HTTP on the pod network (a peer certificate would have to
// name a pod IP not known before the pod exists), and a joining pod's first start fails until its
// member is added (its peer URL is its pod IP), so the kubelet restarts it once.
import { type ChildProcess, spawn } from 'node:child_process';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { EtcdGateway, type EtcdMember } from '../../src/etcd/gateway.js';
import { issueCertificate } from '../../src/pki/index.js';
import type { KeyPair } from '../../src/provider/contract.js';
import { waitFor } from './operator.js';

const NS = 'kube-system';
export const podOf = (node: string) => `etcd-${node}`;
const secretOf = (node: string) => `etcd-stand-in-${node}`;

export class EtcdStandIn {
  private readonly core: CoreV1Api;
  private readonly forwards = new Set<ChildProcess>();
  private client: KeyPair | undefined;
  /** Nodes whose pod this helper made (and removes). */
  readonly nodes = new Set<string>();

  constructor(
    kc: KubeConfig,
    private readonly kubeconfigPath: string,
    /** The real node all members run on. */
    private readonly hostNode: string,
    private readonly image: string,
    private readonly etcdCA: KeyPair,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Runs `fn` against the member of `node` through a `kubectl port-forward` of its own. */
  async through<T>(node: string, fn: (gateway: EtcdGateway, url: string) => Promise<T>): Promise<T> {
    this.client ??= await issueCertificate(this.etcdCA, {
      commonName: 'stand-in-check',
      usages: ['clientAuth'],
    });
    const child = spawn(
      'kubectl',
      ['--kubeconfig', this.kubeconfigPath, '-n', NS, 'port-forward', `pod/${podOf(node)}`, ':2379'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.forwards.add(child);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        let err = '';
        const timer = setTimeout(() => reject(new Error(`kubectl port-forward ${node}: ${err}`)), 15_000);
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.stderr?.on('data', (d: Buffer) => {
          err += d.toString();
        });
        child.on('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`kubectl port-forward ${node} exited ${code}: ${err}`));
        });
      });
      const gateway = new EtcdGateway({ ca: this.etcdCA.cert, ...this.client });
      return await fn(gateway, `https://127.0.0.1:${port}`);
    } finally {
      child.kill();
      this.forwards.delete(child);
    }
  }

  async members(via: string): Promise<EtcdMember[]> {
    return await this.through(via, (g, url) => g.members(url));
  }

  /** The leader's member ID, as `via`'s member sees it. */
  async leader(via: string): Promise<string> {
    return await this.through(via, async (g, url) => (await g.status(url)).leader);
  }

  private async podIP(node: string): Promise<string> {
    return await waitFor(
      `the pod IP of ${podOf(node)}`,
      async () => (await this.core.readNamespacedPod({ namespace: NS, name: podOf(node) })).status?.podIP,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }

  private async createPod(node: string, initialCluster: string, state: 'new' | 'existing'): Promise<void> {
    const cert = await issueCertificate(this.etcdCA, {
      commonName: node,
      dnsNames: [node, 'localhost'],
      ipAddresses: ['127.0.0.1'],
      usages: ['serverAuth', 'clientAuth'],
    });
    this.nodes.add(node);
    await this.core.createNamespacedSecret({
      namespace: NS,
      body: {
        metadata: { name: secretOf(node) },
        stringData: { 'ca.crt': this.etcdCA.cert, 'server.crt': cert.cert, 'server.key': cert.key },
      },
    });
    const self = `${node}=http://$(POD_IP):2380`;
    await this.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: podOf(node), labels: { component: 'etcd', tier: 'control-plane' } },
        spec: {
          nodeName: this.hostNode,
          automountServiceAccountToken: false,
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'etcd',
              image: this.image,
              imagePullPolicy: 'Never',
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              args: [
                `--name=${node}`,
                '--data-dir=/var/lib/etcd',
                '--listen-client-urls=https://0.0.0.0:2379',
                '--advertise-client-urls=https://$(POD_IP):2379',
                '--listen-peer-urls=http://0.0.0.0:2380',
                '--initial-advertise-peer-urls=http://$(POD_IP):2380',
                `--initial-cluster=${initialCluster ? `${initialCluster},` : ''}${self}`,
                `--initial-cluster-state=${state}`,
                '--client-cert-auth=true',
                '--trusted-ca-file=/pki/ca.crt',
                '--cert-file=/pki/server.crt',
                '--key-file=/pki/server.key',
              ],
              volumeMounts: [{ name: 'pki', mountPath: '/pki', readOnly: true }],
            },
          ],
          volumes: [{ name: 'pki', secret: { secretName: secretOf(node) } }],
        },
      },
    });
  }

  /** `kubeadm init`'s etcd: a member founding the cluster. */
  async found(node: string): Promise<void> {
    await this.createPod(node, '', 'new');
    await this.waitStarted(node, node);
  }

  /** `kubeadm join --control-plane`'s etcd: added as a learner through `via`, started, promoted. */
  async join(node: string, via: string): Promise<void> {
    const before = await this.members(via);
    const others = before.map((m) => `${m.name || `unstarted-${m.ID}`}=${m.peerURLs?.[0]}`).join(',');
    await this.createPod(node, others, 'existing');
    const peer = `http://${await this.podIP(node)}:2380`;
    // etcd refuses a member add ("unhealthy cluster") until its members have been up a few seconds.
    const added = await waitFor(
      `${node} added as a learner`,
      async () => await this.through(via, (g, url) => g.addLearner(url, peer)).catch(() => undefined),
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    await this.waitStarted(node, via);
    await waitFor(
      `${node} promoted`,
      async () =>
        await this.through(via, async (g, url) => {
          try {
            await g.promote(url, added.member.ID);
            return true;
          } catch (err) {
            if (/not a learner|member not found/i.test((err as Error).message)) return true;
            return undefined;
          }
        }),
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  }

  /** Until `via`'s member list shows the member of `node` started (it has its name). */
  async waitStarted(node: string, via: string): Promise<void> {
    await waitFor(
      `etcd member ${node} started`,
      async () => {
        try {
          const members = await this.members(via);
          return members.some((m) => m.name === node) ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
  }

  /** A member that never starts (a join that failed after `member add`). */
  async addUnstarted(peerURL: string, via: string): Promise<EtcdMember> {
    return (await this.through(via, (g, url) => g.addLearner(url, peerURL))).member;
  }

  /** The node's pod and Secret go, as a terminated instance takes its static pod with it. */
  async remove(node: string): Promise<void> {
    await this.core
      .deleteNamespacedPod({ namespace: NS, name: podOf(node), gracePeriodSeconds: 0 })
      .catch(() => undefined);
    await this.core.deleteNamespacedSecret({ namespace: NS, name: secretOf(node) }).catch(() => undefined);
    this.nodes.delete(node);
  }

  async removeAll(): Promise<void> {
    for (const child of this.forwards) child.kill();
    for (const node of [...this.nodes]) await this.remove(node);
  }
}
