// aws-ec2 keeps its control plane's etcd membership as KubeadmControlPlane does, reaching etcd only
// through the workload cluster's API (a port-forward to kube-system/etcd-<nodeName>). The emulator's
// instances boot nothing, so a local cluster with a real kubelet worker stands in for the workload
// cluster: it runs one real etcd member pod per aws-ec2 control-plane node, named as kubeadm names
// them, with certificates from the aws-ec2 cluster's etcd CA (test/support/etcd-pods.ts plays
// kubeadm's part in adding members). The provider runs in this process against the emulator, its
// workloadClient pointed at the stand-in. The members are read independently, with kubectl
// port-forward. A control plane of 3 is scaled to 5 and back to 3 (an upgrade replaces machines the
// same way): it ends with exactly as many members as machines, the leader having moved first.
import { readFile } from 'node:fs/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { findBinaries } from '../../../providers/local/binaries.js';
import type { Cluster, Machine, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import { generateClusterCertificates } from '../../../src/pki/index.js';
import type { ClusterCertificates } from '../../../src/provider/contract.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { etcdImage } from '../../support/etcd-image.js';
import { EtcdStandIn } from '../../support/etcd-pods.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { deleteClusterAndWait, getObject, useOperator, waitFor } from '../../support/operator.js';
import { publishedKubeconfig, writeKubeconfig } from '../../support/workload.js';
import { driveUntilDone } from '../local/fixtures.js';
import {
  awsCluster,
  awsMachine,
  clusterCtx,
  ec2Template,
  instancesOfMachine,
  machineCtx,
  ownedInventory,
  someImage,
  uniqueNamespace,
} from './fixtures.js';

const kc = testKubeConfig();
const namespace = useTestNamespace('ec2-etcd');
beforeAll(async () => installCRDs(kc));
const operator = useOperator(namespace);
const STAND_IN = 'etcd-stand-in';
const TIMEOUT = 90_000;

describe('aws-ec2: etcd membership through a port-forward to real etcd pods', () => {
  const awsNamespace = uniqueNamespace('ec2-etcd');
  const factory = new AwsClientFactory();
  let provider: AwsEc2Provider;
  let etcd: EtcdStandIn;
  let cluster: Cluster;
  let certs: ClusterCertificates;
  let template: MachineTemplate;
  let tagKey: string;
  const machines: Machine[] = [];
  /** What the provider logged, to see the order of its etcd steps. */
  const logged: { msg: string; from?: string; member?: string; why?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

  const nodeOf = (m: Machine) => m.status?.addresses?.find((a) => a.type === 'Hostname')?.address as string;
  const ctxOf = (m: Machine) => ({
    ...machineCtx(
      cluster,
      certs,
      m,
      template,
      machines.filter((p) => p !== m),
    ),
    log,
  });
  const etcdSteps = () =>
    logged.filter((l) => l.msg.startsWith('etcd ')).map((l) => `${l.msg}: ${l.from ?? l.member}`);
  /** Launches a control-plane machine in the emulator and records its addresses, as the Machine controller does. */
  const launch = async (name: string): Promise<Machine> => {
    const m = awsMachine(cluster, name, 'ControlPlane', template, 'v1.37.2');
    m.metadata.creationTimestamp = new Date().toISOString();
    machines.push(m);
    const report = await driveUntilDone(`machine ${name}`, () => provider.ensureMachine(ctxOf(m)), TIMEOUT);
    m.status = { ...m.status, addresses: report.addresses ?? [] };
    expect(nodeOf(m)).toMatch(/\.internal$/);
    return m;
  };
  const memberNames = async (via: Machine) => (await etcd.members(nodeOf(via))).map((m) => m.name).sort();
  const nodeNames = (ms: Machine[]) => ms.map(nodeOf).sort();

  /**
   * Deletes a machine through the provider, checking on every pass that its instance is never
   * terminated while its member is still in the cluster.
   */
  const deleteMachine = async (m: Machine, via: Machine): Promise<void> => {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const progress = await provider.deleteMachine(ctxOf(m));
      const running = (await instancesOfMachine(tagKey, m.metadata.name as string)).some(
        (i) => i.State?.Name === 'running',
      );
      const member = (await etcd.members(nodeOf(via))).some((x) => x.name === nodeOf(m));
      expect(running || !member, `instance of ${m.metadata.name} terminated with its member in etcd`).toBe(
        true,
      );
      if (progress.state === 'done') break;
      if (progress.state === 'failed') throw new Error(`${progress.reason}: ${progress.message}`);
      if (Date.now() > deadline) throw new Error(`deleting ${m.metadata.name}: ${progress.message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    machines.splice(machines.indexOf(m), 1);
    await etcd.remove(nodeOf(m)); // a terminated instance takes its static pod with it
  };

  beforeAll(async () => {
    operator();
    const binaries = await findBinaries('v1.37.2');
    if (!binaries.found) throw new Error(binaries.message);
    const image = await etcdImage(binaries.binaries.etcd);
    const manifest = renderTemplate(await readFile('templates/local/cluster-template.yaml', 'utf8'), {
      CLUSTER_NAME: STAND_IN,
      NAMESPACE: namespace(),
      LOCAL_WORKER: 'Kubelet',
      LOCAL_NODE_IMAGES: JSON.stringify([image.archive]),
      WORKER_MACHINE_COUNT: '1',
    });
    const applied = await kubectl(['apply', '-f', '-'], { input: manifest });
    expect(applied.code, applied.stderr).toBe(0);
    await waitFor(
      'the stand-in cluster Ready',
      async () => {
        const c = await getObject(kc, 'clusters', namespace(), STAND_IN);
        return c?.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True')
          ? c
          : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 1_000 },
    );
    const path = await writeKubeconfig(await publishedKubeconfig(kc, namespace(), STAND_IN));
    const workload = new KubeConfig();
    workload.loadFromFile(path);
    const nodes = await workload.makeApiClient(CoreV1Api).listNode();
    const host = nodes.items[0]?.metadata?.name as string;
    certs = await generateClusterCertificates();
    etcd = new EtcdStandIn(workload, path, host, image.ref, certs.etcd);
    provider = new AwsEc2Provider({ clients: factory, workloadClient: () => new KubeClient(workload) });
    cluster = awsCluster(awsNamespace, 'demo', { network: { availabilityZoneCount: 1 } });
    tagKey = clusterTagKey({ namespace: awsNamespace, name: 'demo' });
    template = ec2Template(awsNamespace, 'demo-cp', {
      instanceType: 'm7i.large',
      ami: { id: await someImage() },
    });
    await driveUntilDone('infrastructure', () => provider.ensureInfrastructure(clusterCtx(cluster)), TIMEOUT);
  }, 420_000);

  afterAll(async () => {
    await etcd?.removeAll();
    for (const m of [...machines]) {
      await driveUntilDone(
        `delete ${m.metadata.name}`,
        async () => ({ progress: await provider.deleteMachine(ctxOf(m)) }),
        TIMEOUT,
      ).catch(() => undefined);
    }
    if (provider) {
      await driveUntilDone(
        'delete infrastructure',
        async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
        TIMEOUT,
      ).catch(() => undefined);
      provider.destroy();
    }
    await deleteClusterAndWait(kc, namespace(), STAND_IN).catch((err) => console.error(err));
  }, 300_000);

  it('three control-plane machines, three members (kubeadm init, then join, on each node)', async () => {
    const first = await launch('demo-cp-1');
    await etcd.found(nodeOf(first));
    for (const name of ['demo-cp-2', 'demo-cp-3']) {
      const m = await launch(name);
      await etcd.join(nodeOf(m), nodeOf(first));
    }
    expect(await memberNames(first)).toEqual(nodeNames(machines));
  }, 300_000);

  it('scaled to five: five members', async () => {
    for (const name of ['demo-cp-4', 'demo-cp-5']) {
      const m = await launch(name);
      await etcd.join(nodeOf(m), nodeOf(machines[0] as Machine));
    }
    expect(await memberNames(machines[0] as Machine)).toEqual(nodeNames(machines));
  }, 300_000);

  it('scaled back to three: the leader hands leadership on, each member goes before its instance', async () => {
    const [first, second, , fourth] = machines as [Machine, Machine, Machine, Machine];
    // Make the first machine the leader, so that its deletion must move leadership.
    const members = await etcd.members(nodeOf(fourth));
    const firstId = members.find((m) => m.name === nodeOf(first))?.ID as string;
    const leader = await etcd.leader(nodeOf(fourth));
    const leaderNode = members.find((m) => m.ID === leader)?.name as string;
    if (leader !== firstId) await etcd.through(leaderNode, (g, url) => g.moveLeader(url, firstId));
    expect(await etcd.leader(nodeOf(fourth))).toBe(firstId);

    logged.length = 0;
    await deleteMachine(first, fourth);
    expect(etcdSteps()).toEqual([
      `etcd leadership moved: ${nodeOf(first)}`,
      `etcd member removed: ${nodeOf(first)}`,
    ]);
    // To the newest machine's member, the last a scale-down would take.
    const newest = machines.at(-1) as Machine;
    const after = await etcd.leader(nodeOf(fourth));
    expect((await etcd.members(nodeOf(fourth))).find((m) => m.ID === after)?.name).toBe(nodeOf(newest));
    // Leadership went to one of the others; if to the second machine, it moves again now.
    const secondId = (await etcd.members(nodeOf(fourth))).find((m) => m.name === nodeOf(second))?.ID;
    const secondLeads = (await etcd.leader(nodeOf(fourth))) === secondId;
    logged.length = 0;
    await deleteMachine(second, fourth);
    expect(etcdSteps()).toEqual([
      ...(secondLeads ? [`etcd leadership moved: ${nodeOf(second)}`] : []),
      `etcd member removed: ${nodeOf(second)}`,
    ]);
    expect(await etcd.leader(nodeOf(fourth))).not.toBe(secondId);
    expect(machines).toHaveLength(3);
    expect(await memberNames(fourth)).toEqual(nodeNames(machines));
  }, 300_000);

  it('removes a member whose machine is gone and one that never started', async () => {
    const [third] = machines as [Machine];
    const orphan = 'ip-10-0-250-250.ec2.internal';
    await etcd.join(orphan, nodeOf(third));
    await etcd.addUnstarted('http://10.0.250.251:2380', nodeOf(third));
    expect(await etcd.members(nodeOf(third))).toHaveLength(5);
    // A pass over a ready control-plane machine looks at the members, the machines having changed.
    logged.length = 0;
    const report = await provider.ensureMachine(ctxOf(third));
    expect(report.ready).toBe(true);
    const removed = logged.filter((l) => l.msg === 'etcd member removed').map((l) => `${l.member}: ${l.why}`);
    expect(removed.sort()).toEqual(
      [
        `${orphan}: no control-plane machine has its node`,
        'http://10.0.250.251:2380: it never started and no machine has its address',
      ].sort(),
    );
    expect(await memberNames(third)).toEqual(nodeNames(machines));
    await etcd.remove(orphan);
  }, 300_000);

  it('refuses a removal that would lose quorum; the member of a dead machine goes', async () => {
    const [third, fourth, fifth] = machines as [Machine, Machine, Machine];
    await etcd.remove(nodeOf(fifth)); // the fifth machine's node dies, and its etcd pod with it
    // Once the two left have elected a leader, removing the third would leave one healthy of two.
    const refused = await waitFor(
      'the deletion of the third machine refused',
      async () => {
        const p = await provider.deleteMachine(ctxOf(third));
        return p.state === 'failed' ? p : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(refused).toMatchObject({
      reason: 'EtcdQuorumAtRisk',
      message: `refusing to remove the etcd member of ${nodeOf(third)}: 1 of the 2 remaining voting members are healthy, 2 are needed for a quorum`,
    });
    expect((await instancesOfMachine(tagKey, 'demo-cp-3')).map((i) => i.State?.Name)).toEqual(['running']);
    expect(await memberNames(fourth)).toEqual(nodeNames(machines));
    // Deleting the dead machine (as remediation would) removes its member through a live one.
    await deleteMachine(fifth, fourth);
    expect(await memberNames(fourth)).toEqual(nodeNames([third, fourth]));
  }, 300_000);

  it('deleted to the last machine and its infrastructure: nothing left', async () => {
    const last = machines.at(-1) as Machine;
    for (const m of machines.slice(0, -1)) await deleteMachine(m, last);
    expect(await memberNames(last)).toEqual([nodeOf(last)]);
    // The last member stays: the cluster ends with it.
    await driveUntilDone(
      `delete ${last.metadata.name}`,
      async () => ({ progress: await provider.deleteMachine(ctxOf(last)) }),
      TIMEOUT,
    );
    machines.length = 0;
    await etcd.remove(nodeOf(last));
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      TIMEOUT,
    );
    expect(Object.values(await ownedInventory(tagKey)).flat()).toEqual([]);
  }, 300_000);
});
