// Short-lived, per-machine join tokens on aws-ec2 (issue #13 item 4), as Cluster API's kubeadm
// bootstrap provider makes them: before a joining machine's instance is launched, a bootstrap token
// Secret for it appears in the workload cluster's kube-system with an expiration, and its user data
// (read back from the emulator) carries that token; the expiration moves while the machine has no
// Node; the Secret is gone once a Node with the machine's provider ID is registered, or once the
// Machine is deleted. No kubeadm runs on the emulator's instances, so the test API server stands in
// for the workload cluster's API, and the Node a kubelet would register is created by the test.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { JoinTokens } from '../../../providers/aws-ec2/join-tokens/join-tokens.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import type { Cluster, Machine, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import { generateClusterCertificates } from '../../../src/pki/index.js';
import type { ClusterCertificates, MachineStatusReport } from '../../../src/provider/contract.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig } from '../../support/kube.js';
import { driveUntilDone } from '../local/fixtures.js';
import {
  awsCluster,
  awsMachine,
  bootstrapOf,
  clusterCtx,
  ec2Template,
  instancesOfMachine,
  machineCtx,
  ownedInventory,
  someImage,
  testClients,
  uniqueNamespace,
} from './fixtures.js';
import {
  deleteJoinTokenSecrets,
  joinTokenSecrets,
  secretText,
  workloadStandIn,
} from './workload-stand-in.js';

const TIMEOUT = 60_000;
/** Short, so that the test sees an extension: one is due once less than 20 s are left. */
const TTL_MS = 30_000;
const VERSION = 'v1.37.2';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Review {
  status: { userInfo: { username: string; groups?: string[] } };
}
/** Who the API server takes a bearer of `token` for (a SelfSubjectReview); throws on 401. */
async function signInWith(token: string): Promise<Review['status']['userInfo']> {
  const cluster = testKubeConfig().getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'bootstrap', token }],
    contexts: [{ name: 'bootstrap', cluster: cluster.name, user: 'bootstrap' }],
    currentContext: 'bootstrap',
  });
  const review = await new KubeClient(kc, { timeoutMs: 5_000 }).request<Review>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return review.status.userInfo;
}

/** Until `check` passes (the API server's token authenticator reads Secrets through a cache). */
async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

describe('aws-ec2: a join token per machine, short-lived, gone after the join', () => {
  const namespace = uniqueNamespace('ec2-jt');
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const factory = new AwsClientFactory();
  const options = { clients: factory, joinTokenTTLMs: TTL_MS, ...workloadStandIn(kc) };
  let provider = new AwsEc2Provider(options);
  // The same cluster, but its API cannot be reached.
  const cut = new AwsEc2Provider({
    clients: factory,
    joinTokenTTLMs: TTL_MS,
    workloadClient: () => {
      const unreachable = testKubeConfig();
      unreachable.clusters[0] = { ...unreachable.clusters[0]!, server: 'https://127.0.0.1:1' };
      return new KubeClient(unreachable, { timeoutMs: 2_000 });
    },
  });
  const { ec2 } = testClients();
  let cluster: Cluster;
  let certs: ClusterCertificates;
  let template: MachineTemplate;
  let tagKey: string;
  const machines: Machine[] = [];
  const reports = new Map<string, MachineStatusReport>();
  const nodes: string[] = [];

  const ctxOf = (m: Machine) =>
    machineCtx(
      cluster,
      certs,
      m,
      template,
      machines.filter((p) => p !== m),
    );
  const ensure = async (m: Machine) => {
    const r = await driveUntilDone(
      `machine ${m.metadata.name}`,
      () => provider.ensureMachine(ctxOf(m)),
      TIMEOUT,
    );
    reports.set(m.metadata.name as string, r);
    return r;
  };
  const deleteMachine = (m: Machine) =>
    driveUntilDone(
      `delete ${m.metadata.name}`,
      async () => ({ progress: await provider.deleteMachine(ctxOf(m)) }),
      TIMEOUT,
    );
  const machine = (name: string) => machines.find((m) => m.metadata.name === name) as Machine;
  const add = (name: string, role: 'ControlPlane' | 'Worker') => {
    const m = awsMachine(cluster, name, role, template, VERSION);
    machines.push(m);
    return m;
  };
  const userDataToken = async (m: Machine) => {
    const [instance] = await instancesOfMachine(tagKey, m.metadata.name as string);
    const boot = await bootstrapOf(ec2, instance?.InstanceId as string);
    return boot.documents[0]?.discovery?.bootstrapToken?.token as string;
  };

  beforeAll(async () => {
    certs = await generateClusterCertificates();
    cluster = awsCluster(namespace, 'demo', { network: { availabilityZoneCount: 1 } });
    tagKey = clusterTagKey({ namespace, name: 'demo' });
    template = ec2Template(namespace, 'demo-m', {
      instanceType: 'm7i.large',
      ami: { id: await someImage() },
    });
    await driveUntilDone('infrastructure', () => provider.ensureInfrastructure(clusterCtx(cluster)), TIMEOUT);
  });

  afterAll(async () => {
    for (const m of machines) await deleteMachine(m).catch(() => undefined);
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      TIMEOUT,
    ).catch(() => undefined);
    await deleteJoinTokenSecrets(kc, machines);
    for (const name of nodes) await core.deleteNode({ name }).catch(() => undefined);
    ec2.destroy();
    provider.destroy();
  });

  it('the first control-plane machine (kubeadm init) has no Secret: its InitConfiguration carries a token with the short TTL', async () => {
    const cp = add('demo-cp', 'ControlPlane');
    await ensure(cp);
    const [instance] = await instancesOfMachine(tagKey, 'demo-cp');
    const init = (await bootstrapOf(ec2, instance?.InstanceId as string)).documents[0] as Record<string, any>;
    expect(init.kind).toBe('InitConfiguration');
    expect(init.bootstrapTokens).toEqual([
      expect.objectContaining({ token: expect.stringMatching(/^[a-z0-9]{6}\.[a-z0-9]{16}$/), ttl: '30s' }),
    ]);
    expect(await joinTokenSecrets(kc, cp)).toEqual([]);
  });

  it('a worker waits, launching nothing, while the workload API cannot be reached', async () => {
    const w = add('demo-w1', 'Worker');
    const report = await cut.ensureMachine(ctxOf(w));
    expect(report.progress).toMatchObject({
      state: 'inProgress',
      message: expect.stringContaining(
        "waiting for the workload cluster's API to hold machine demo-w1's join token",
      ),
    });
    expect(await instancesOfMachine(tagKey, 'demo-w1')).toEqual([]);
  });

  it('once it can, the token Secret appears with an expiration in the future, and the user data carries that token', async () => {
    const w = machine('demo-w1');
    const before = Date.now();
    await ensure(w);
    const secrets = await joinTokenSecrets(kc, w);
    expect(secrets).toHaveLength(1);
    const s = secrets[0]!;
    expect(s.type).toBe('bootstrap.kubernetes.io/token');
    const id = secretText(s, 'token-id');
    expect(s.metadata?.name).toBe(`bootstrap-token-${id}`);
    expect(secretText(s, 'usage-bootstrap-authentication')).toBe('true');
    expect(secretText(s, 'usage-bootstrap-signing')).toBe('true');
    expect(secretText(s, 'auth-extra-groups')).toBe('system:bootstrappers:kubeadm:default-node-token');
    const expiration = Date.parse(secretText(s, 'expiration'));
    expect(expiration).toBeGreaterThan(Date.now());
    expect(expiration).toBeLessThanOrEqual(before + TTL_MS + 1_000);
    const token = await userDataToken(w);
    expect(token).toBe(`${id}.${secretText(s, 'token-secret')}`);
    // The API server (bootstrap token authentication on, as kubeadm sets it) takes it for a joiner.
    await eventually(async () => {
      const user = await signInWith(token);
      expect(user.username).toBe(`system:bootstrap:${id}`);
      expect(user.groups).toContain('system:bootstrappers:kubeadm:default-node-token');
    });
  });

  it('another worker gets a token of its own; a restart makes no second Secret', async () => {
    const w2 = add('demo-w2', 'Worker');
    await ensure(w2);
    expect(await userDataToken(w2)).not.toBe(await userDataToken(machine('demo-w1')));
    provider = new AwsEc2Provider(options);
    for (const m of machines) await ensure(m);
    for (const m of machines.filter((x) => x.spec.role === 'Worker'))
      expect(await joinTokenSecrets(kc, m)).toHaveLength(1);
  });

  it('a crash between the Secret and RunInstances: the next pass launches with the Secret made before', async () => {
    const w3 = add('demo-w3', 'Worker');
    // What the pass that died had done: the Secret, and no instance.
    const tokens = new JoinTokens(async () => new KubeClient(kc), TTL_MS);
    const made = await tokens.forLaunch(ctxOf(w3), 'joinWorker', pino({ level: 'silent' }));
    expect(made).toHaveProperty('token');
    await ensure(w3);
    expect(await userDataToken(w3)).toBe((made as { token: string }).token);
    expect(await joinTokenSecrets(kc, w3)).toHaveLength(1);
    expect(await instancesOfMachine(tagKey, 'demo-w3')).toHaveLength(1);
  });

  it(
    'is extended while the machine has not joined',
    async () => {
      const w = machine('demo-w1');
      const expiration = async () =>
        Date.parse(secretText((await joinTokenSecrets(kc, w))[0]!, 'expiration'));
      const first = await expiration();
      await sleep(first - Date.now() - (TTL_MS * 2) / 3 + 1_500); // less than two thirds of the TTL left
      await ensure(w);
      const second = await expiration();
      expect(second).toBeGreaterThan(first);
      expect(second).toBeGreaterThan(Date.now() + (TTL_MS * 2) / 3 - 2_000);
    },
    TIMEOUT,
  );

  it('is gone once a Node with the machine’s provider ID is registered', async () => {
    const w = machine('demo-w1');
    const providerID = reports.get('demo-w1')?.providerID as string;
    expect(providerID).toMatch(/^aws:\/\/\/[^/]+\/i-[0-9a-f]+$/);
    const name = `jt-${namespace}-w1`;
    nodes.push(name);
    await core.createNode({ body: { metadata: { name }, spec: { providerID } } });
    const token = await userDataToken(w);
    await ensure(w);
    expect(await joinTokenSecrets(kc, w)).toEqual([]);
    await eventually(async () => {
      await expect(signInWith(token)).rejects.toThrow();
    });
    // The other workers have no Node: their tokens stay.
    expect(await joinTokenSecrets(kc, machine('demo-w2'))).toHaveLength(1);
  });

  it('is gone once the Machine is deleted, joined or not', async () => {
    const w2 = machine('demo-w2');
    await deleteMachine(w2);
    expect(await joinTokenSecrets(kc, w2)).toEqual([]);
  });

  it('leaves nothing tagged for the cluster, and no token Secret, once deleted', async () => {
    for (const m of machines) await deleteMachine(m);
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      TIMEOUT,
    );
    expect(Object.values(await ownedInventory(tagKey)).flat()).toEqual([]);
    for (const m of machines) expect(await joinTokenSecrets(kc, m)).toEqual([]);
  });
});
