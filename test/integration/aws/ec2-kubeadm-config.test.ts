// Before the first control-plane instance of a new version, the aws-ec2 provider sets kubernetesVersion
// in the workload cluster's kube-system/kubeadm-config (kubeadm join --control-plane runs the
// components at the version it finds there). The instances are the emulator's; no kubeadm runs on
// them, so the test API server stands in for the workload cluster's API: it holds the kubeadm-config
// that `kubeadm init` would have written, and the provider reaches it through its workloadClient
// option instead of through the (unreachable) load balancer.
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { KUBEADM_CONFIG_MAP } from '../../../providers/aws-ec2/services/kubeadm-config.js';
import type { Cluster, Machine, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import { generateClusterCertificates } from '../../../src/pki/index.js';
import type { ClusterCertificates } from '../../../src/provider/contract.js';
import { KubeClient } from '../../../src/runtime/transport.js';
import { testKubeConfig } from '../../support/kube.js';
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

const TIMEOUT = 60_000;
const OLD = 'v1.36.3';
const NEW = 'v1.37.2';
/** As kubeadm init writes it (abridged): the field that matters and some it must leave alone. */
const CLUSTER_CONFIGURATION = `apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: demo
controlPlaneEndpoint: demo-api.elb.amazonaws.com:6443
kubernetesVersion: ${OLD}
networking:
  podSubnet: 192.168.0.0/16
  serviceSubnet: 10.96.0.0/12
`;

describe('aws-ec2: kubeadm-config follows a control-plane upgrade', () => {
  const namespace = uniqueNamespace('ec2-kc');
  const kc = testKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const factory = new AwsClientFactory();
  const provider = new AwsEc2Provider({ clients: factory, workloadClient: () => new KubeClient(kc) });
  // The same cluster, but its API cannot be reached: nothing must be launched then (a joining machine
  // needs that API for its join token too: ec2-join-tokens.test.ts).
  const cut = new AwsEc2Provider({
    clients: factory,
    workloadClient: (admin) => {
      const unreachable = testKubeConfig();
      unreachable.clusters[0] = { ...unreachable.clusters[0]!, server: 'https://127.0.0.1:1' };
      return new KubeClient(unreachable, { timeoutMs: 2_000, userAgent: admin.server });
    },
  });
  let cluster: Cluster;
  let certs: ClusterCertificates;
  let template: MachineTemplate;
  let tagKey: string;
  const machines: Machine[] = [];

  const kubeadmVersion = async () => {
    const cm = await core.readNamespacedConfigMap(KUBEADM_CONFIG_MAP);
    return parse(cm.data?.ClusterConfiguration ?? '') as Record<string, unknown>;
  };
  const ctxOf = (m: Machine) =>
    machineCtx(
      cluster,
      certs,
      m,
      template,
      machines.filter((p) => p !== m),
    );
  const ensure = (p: AwsEc2Provider, m: Machine) =>
    driveUntilDone(`machine ${m.metadata.name}`, () => p.ensureMachine(ctxOf(m)), TIMEOUT);

  beforeAll(async () => {
    certs = await generateClusterCertificates();
    cluster = awsCluster(namespace, 'demo', { network: { availabilityZoneCount: 1 } });
    tagKey = clusterTagKey({ namespace, name: 'demo' });
    template = ec2Template(namespace, 'demo-cp', {
      instanceType: 'm7i.large',
      ami: { id: await someImage() },
    });
    await core.deleteNamespacedConfigMap(KUBEADM_CONFIG_MAP).catch(() => undefined);
    await core.createNamespacedConfigMap({
      namespace: KUBEADM_CONFIG_MAP.namespace,
      body: {
        metadata: { name: KUBEADM_CONFIG_MAP.name },
        data: { ClusterConfiguration: CLUSTER_CONFIGURATION },
      },
    });
    await driveUntilDone('infrastructure', () => provider.ensureInfrastructure(clusterCtx(cluster)), TIMEOUT);
  });

  afterAll(async () => {
    for (const m of machines) {
      await driveUntilDone(
        `delete ${m.metadata.name}`,
        async () => ({ progress: await provider.deleteMachine(ctxOf(m)) }),
        TIMEOUT,
      ).catch(() => undefined);
    }
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      TIMEOUT,
    ).catch(() => undefined);
    await core.deleteNamespacedConfigMap(KUBEADM_CONFIG_MAP).catch(() => undefined);
    provider.destroy();
  });

  it('a control-plane machine at the version its peers run leaves kubeadm-config alone', async () => {
    const first = awsMachine(cluster, 'demo-cp-a', 'ControlPlane', template, OLD);
    machines.push(first);
    await ensure(provider, first);
    expect(await instancesOfMachine(tagKey, 'demo-cp-a')).toHaveLength(1);
    const second = awsMachine(cluster, 'demo-cp-b', 'ControlPlane', template, OLD);
    machines.push(second);
    await ensure(provider, second); // the workload API for its join token; kubeadm-config is left
    expect(await instancesOfMachine(tagKey, 'demo-cp-b')).toHaveLength(1);
    expect((await kubeadmVersion()).kubernetesVersion).toBe(OLD);
  });

  it('the first machine of a new version waits, launching nothing, while the workload API cannot be reached', async () => {
    const next = awsMachine(cluster, 'demo-cp-c', 'ControlPlane', template, NEW);
    machines.push(next);
    const report = await cut.ensureMachine(ctxOf(next));
    expect(report.progress).toMatchObject({
      state: 'inProgress',
      message: expect.stringContaining(
        `waiting to set kubernetesVersion ${NEW} in the workload cluster's kube-system/kubeadm-config`,
      ),
    });
    expect(await instancesOfMachine(tagKey, 'demo-cp-c')).toEqual([]);
    expect((await kubeadmVersion()).kubernetesVersion).toBe(OLD);
  });

  it('once it can, it sets kubernetesVersion, keeps the rest, and then launches the instance', async () => {
    const next = machines.find((m) => m.metadata.name === 'demo-cp-c') as Machine;
    await ensure(provider, next);
    const config = await kubeadmVersion();
    expect(config).toEqual({ ...parse(CLUSTER_CONFIGURATION), kubernetesVersion: NEW });
    expect(await instancesOfMachine(tagKey, 'demo-cp-c')).toHaveLength(1);
  });

  it('leaves nothing tagged for the cluster once deleted', async () => {
    for (const m of machines) {
      await driveUntilDone(
        `delete ${m.metadata.name}`,
        async () => ({ progress: await provider.deleteMachine(ctxOf(m)) }),
        TIMEOUT,
      );
    }
    machines.length = 0;
    await driveUntilDone(
      'delete infrastructure',
      async () => ({ progress: await provider.deleteInfrastructure(clusterCtx(cluster)) }),
      TIMEOUT,
    );
    expect(Object.values(await ownedInventory(tagKey)).flat()).toEqual([]);
  });
});
