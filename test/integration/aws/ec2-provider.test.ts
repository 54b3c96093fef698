// The aws-ec2 provider driven directly (no controllers) against the AWS API emulator over real HTTP
// with the real SDK: nothing of AWS is faked here. Creates a cluster's infrastructure, three machines
// (and a fourth for a second control-plane member), restarts the provider as a crash would, scales
// down, deletes everything, and checks each resource type for what still carries the owned tag.
import {
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVolumesCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  type EC2Client,
  type Instance,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AwsClientFactory } from '../../../providers/aws-common/clients.js';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { AwsEc2Provider } from '../../../providers/aws-ec2/provider.js';
import { caCertHash, KUBEADM_CONFIG_PATH } from '../../../providers/aws-ec2/userdata.js';
import type { Cluster, Machine, MachineTemplate } from '../../../src/api/v1alpha1/index.js';
import { generateClusterCertificates, loadCertificate } from '../../../src/pki/index.js';
import type {
  ClusterCertificates,
  MachineContext,
  MachineStatusReport,
} from '../../../src/provider/contract.js';
import { testKubeConfig } from '../../support/kube.js';
import { deleteMachineFully, driveUntilDone, ensureMachineReady } from '../local/fixtures.js';
import {
  awsCluster,
  awsMachine,
  bootstrapOf,
  CallCounter,
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

/** Until the machine is ready, asking again after 200 ms (the emulator answers at once). */
const machineReady = (provider: AwsEc2Provider, ctx: MachineContext) =>
  ensureMachineReady(provider, ctx, TIMEOUT, 200);

const deleteFully = (provider: AwsEc2Provider, ctx: MachineContext) =>
  deleteMachineFully(provider, ctx, TIMEOUT);

const ingressOf = (permissions: IpPermission[] | undefined) =>
  (permissions ?? []).flatMap((p) => [
    ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}:${r.CidrIp}`),
    ...(p.UserIdGroupPairs ?? []).map((g) => `${p.IpProtocol}:${p.FromPort}-${p.ToPort}:${g.GroupId}`),
  ]);

describe('aws-ec2 provider against the AWS API emulator', () => {
  const namespace = uniqueNamespace('ec2');
  const kc = testKubeConfig();
  // The workload cluster's API (join tokens, kubeadm-config): the test API server stands in.
  const standIn = workloadStandIn(kc);
  const calls = new CallCounter();
  // What RunInstances was asked for: the emulator keeps no IOPS or throughput of a volume made there.
  const runInputs: any[] = [];
  const factory = new AwsClientFactory({
    onCall: calls.record,
    onClient: (client) =>
      (client.middlewareStack as any).add(
        (next: (args: any) => Promise<unknown>, context: { commandName?: string }) => async (args: any) => {
          if (context.commandName === 'RunInstancesCommand') runInputs.push(args.input);
          return next(args);
        },
        { step: 'initialize', name: 'testRunInstancesInput' },
      ),
  });
  let provider = new AwsEc2Provider({ clients: factory, ...standIn });
  let cluster: Cluster;
  let certs: ClusterCertificates;
  let cpTemplate: MachineTemplate;
  let workerTemplate: MachineTemplate;
  let tagKey: string;
  let endpoint: { host: string; port: number };
  let ec2: EC2Client;
  let elbv2: ElasticLoadBalancingV2Client;
  const machines: Record<string, Machine> = {};
  const reports: Record<string, MachineStatusReport> = {};
  const figures: string[] = [];

  const ctxOf = (name: string) => {
    const m = machines[name] as Machine;
    const peers = Object.values(machines).filter((p) => p !== m && p.spec.role === m.spec.role);
    return machineCtx(
      cluster,
      certs,
      m,
      m.spec.role === 'ControlPlane' ? cpTemplate : workerTemplate,
      peers,
      endpoint,
    );
  };
  const instanceIdOf = (name: string) => reports[name]?.providerID?.split('/').at(-1) as string;
  const instance = async (id: string): Promise<Instance> =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations?.[0]
      ?.Instances?.[0] as Instance;

  beforeAll(async () => {
    expect(process.env.AWS_ENDPOINT_URL).toBe(inject('awsEndpoint'));
    ({ ec2, elbv2 } = testClients());
    certs = await generateClusterCertificates();
    cluster = awsCluster(namespace, 'demo', {
      network: { availabilityZoneCount: 2 },
      additionalTags: { team: 'platform' },
    });
    tagKey = clusterTagKey({ namespace, name: 'demo' });
    const image = await someImage();
    cpTemplate = ec2Template(namespace, 'demo-cp', { instanceType: 'm7i.large', ami: { id: image } });
    workerTemplate = ec2Template(namespace, 'demo-workers', {
      instanceType: 'm7i.xlarge',
      ami: { id: image },
      rootVolume: { sizeGiB: 60, type: 'gp3', iops: 4000, throughput: 250 },
    });
  });

  afterAll(async () => {
    await deleteJoinTokenSecrets(kc, Object.values(machines));
    provider.destroy();
    ec2?.destroy();
    elbv2?.destroy();
    console.log(figures.join('\n\n'));
  });

  it('ensureInfrastructure reaches done and reports the load balancer as the endpoint', async () => {
    calls.reset();
    let passes = 0;
    const status = await driveUntilDone(
      'infrastructure',
      async () => {
        passes++;
        return await provider.ensureInfrastructure(clusterCtx(cluster));
      },
      TIMEOUT,
    );
    figures.push(calls.format(`ensureInfrastructure to done (${passes} calls of the provider)`));
    expect(status.endpoint?.port).toBe(6443);
    expect(status.endpoint?.host).toMatch(/\.elb\.amazonaws\.com$/);
    endpoint = status.endpoint as { host: string; port: number };
    // Each resource was created exactly once.
    for (const op of [
      'CreateVpc',
      'CreateInternetGateway',
      'CreateLoadBalancer',
      'CreateTargetGroup',
      'CreateListener',
    ]) {
      expect(calls.count(op), op).toBe(1);
    }
    expect(calls.count('CreateSubnet')).toBe(4);
    expect(calls.count('CreateNatGateway')).toBe(2);
    expect(calls.count('AllocateAddress')).toBe(2);
    expect(calls.count('CreateRouteTable')).toBe(3);
    expect(calls.count('CreateSecurityGroup')).toBe(3);
  });

  it('every resource exists with the owned tags and the right wiring', async () => {
    const owned = (tags: { Key?: string; Value?: string }[] | undefined, name?: string) => {
      const t = Object.fromEntries((tags ?? []).map((x) => [x.Key, x.Value]));
      expect(t[tagKey]).toBe('owned');
      expect(t['kubernetes.io/cluster/demo']).toBe('owned');
      expect(t.team).toBe('platform');
      if (name) expect(t.Name).toBe(name);
      else expect(t.Name).toBeTruthy();
    };
    const inv = await ownedInventory(tagKey);
    expect(Object.fromEntries(Object.entries(inv).map(([k, v]) => [k, v.length]))).toEqual({
      vpc: 1,
      subnet: 4,
      internetGateway: 1,
      natGateway: 2,
      elasticIP: 2,
      routeTable: 3,
      securityGroup: 3,
      loadBalancer: 1,
      targetGroup: 1,
      instance: 0,
      volume: 0,
    });

    const vpcId = inv.vpc[0] as string;
    const vpc = (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs?.[0];
    expect(vpc?.CidrBlock).toBe('10.0.0.0/16');
    owned(vpc?.Tags, 'demo-vpc');
    const dns = await ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }),
    );
    expect(dns.EnableDnsHostnames?.Value).toBe(true);

    const subnets = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: inv.subnet }))).Subnets ?? [];
    for (const s of subnets) owned(s.Tags);
    const publics = subnets.filter((s) => s.MapPublicIpOnLaunch);
    const privates = subnets.filter((s) => !s.MapPublicIpOnLaunch);
    expect(publics.map((s) => s.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b']);
    expect(privates.map((s) => s.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b']);
    expect(subnets.every((s) => s.VpcId === vpcId)).toBe(true);

    const igw = (
      await ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: inv.internetGateway }))
    ).InternetGateways?.[0];
    owned(igw?.Tags, 'demo-igw');
    expect(igw?.Attachments?.[0]?.VpcId).toBe(vpcId);

    const nats =
      (await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: inv.natGateway }))).NatGateways ?? [];
    for (const n of nats) {
      owned(n.Tags);
      expect(n.State).toBe('available');
      expect(publics.map((s) => s.SubnetId)).toContain(n.SubnetId);
      expect(inv.elasticIP).toContain(n.NatGatewayAddresses?.[0]?.AllocationId);
    }

    // Routes: public subnets to the internet gateway, each zone's private subnet to its zone's NAT.
    const tables =
      (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: inv.routeTable }))).RouteTables ?? [];
    const tableOf = (subnetId: string) =>
      tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId));
    const defaultRoute = (subnetId: string) =>
      tableOf(subnetId)?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0');
    for (const t of tables) owned(t.Tags);
    for (const s of publics)
      expect(defaultRoute(s.SubnetId as string)?.GatewayId).toBe(igw?.InternetGatewayId);
    for (const s of privates) {
      const nat = nats.find((n) => n.NatGatewayId === defaultRoute(s.SubnetId as string)?.NatGatewayId);
      const natZone = publics.find((p) => p.SubnetId === nat?.SubnetId)?.AvailabilityZone;
      expect(natZone).toBe(s.AvailabilityZone);
    }

    // Security groups with kubeadm's rules.
    const groups =
      (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: inv.securityGroup }))).SecurityGroups ??
      [];
    const byRole = (role: string) =>
      groups.find((g) => g.Tags?.some((t) => t.Key === 'clusterforge.dev/role' && t.Value === role));
    const lbSg = byRole('sg-apiserver-lb');
    const cpSg = byRole('sg-controlplane');
    const nodeSg = byRole('sg-node');
    for (const g of [lbSg, cpSg, nodeSg]) owned(g?.Tags);
    expect(ingressOf(lbSg?.IpPermissions)).toEqual(['tcp:6443-6443:0.0.0.0/0']);
    // Both machine groups take the kubelet (10250), BGP (179) and IP-in-IP (protocol 4) from every machine.
    const fromMachines = [cpSg, nodeSg].flatMap((g) => [
      `tcp:10250-10250:${g?.GroupId}`,
      `tcp:179-179:${g?.GroupId}`,
      `4:-1--1:${g?.GroupId}`,
    ]);
    expect(ingressOf(cpSg?.IpPermissions).sort()).toEqual(
      [
        `tcp:6443-6443:${lbSg?.GroupId}`,
        `tcp:6443-6443:${cpSg?.GroupId}`,
        `tcp:6443-6443:${nodeSg?.GroupId}`,
        `tcp:2379-2380:${cpSg?.GroupId}`,
        ...fromMachines,
      ].sort(),
    );
    expect(ingressOf(nodeSg?.IpPermissions).sort()).toEqual(
      ['tcp:30000-32767:0.0.0.0/0', ...fromMachines].sort(),
    );

    // The API load balancer: network, internet-facing, in the public subnets, TCP 6443 to the target group.
    const lb = (await elbv2.send(new DescribeLoadBalancersCommand({ Names: inv.loadBalancer })))
      .LoadBalancers?.[0];
    expect(lb).toMatchObject({
      Type: 'network',
      Scheme: 'internet-facing',
      VpcId: vpcId,
      DNSName: endpoint.host,
    });
    expect(lb?.SecurityGroups).toEqual([lbSg?.GroupId]);
    expect(lb?.AvailabilityZones?.map((z) => z.SubnetId).sort()).toEqual(
      publics.map((s) => s.SubnetId).sort(),
    );
    const tg = (await elbv2.send(new DescribeTargetGroupsCommand({ Names: inv.targetGroup })))
      .TargetGroups?.[0];
    expect(tg).toMatchObject({ Protocol: 'TCP', Port: 6443, VpcId: vpcId, TargetType: 'instance' });
    const attributes = await elbv2.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg?.TargetGroupArn }),
    );
    expect(attributes.Attributes).toContainEqual({ Key: 'preserve_client_ip.enabled', Value: 'false' });
    const listeners = (
      await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))
    ).Listeners;
    expect(listeners).toHaveLength(1);
    expect(listeners?.[0]).toMatchObject({ Protocol: 'TCP', Port: 6443 });
    expect(listeners?.[0]?.DefaultActions?.[0]).toMatchObject({
      Type: 'forward',
      TargetGroupArn: tg?.TargetGroupArn,
    });
  });

  it('looks again without creating anything: the same provider, then a new one (a restart)', async () => {
    calls.reset();
    const again = await provider.ensureInfrastructure(clusterCtx(cluster));
    expect(again).toEqual({ progress: { state: 'done' }, endpoint });
    expect(calls.total()).toBe(0); // seen complete a moment ago: trusted until the next verification

    provider = new AwsEc2Provider({ clients: factory, ...standIn });
    const restarted = await provider.ensureInfrastructure(clusterCtx(cluster));
    expect(restarted).toEqual({ progress: { state: 'done' }, endpoint });
    figures.push(calls.format('ensureInfrastructure after a restart, nothing to do'));
    expect(
      calls.matching('Create', 'Allocate', 'Attach', 'Associate', 'Authorize', 'Revoke', 'Replace'),
    ).toBe(0);
  });

  it('machines: one control plane and two workers become instances with kubeadm user data', async () => {
    machines['cp-1'] = awsMachine(cluster, 'demo-cp-1', 'ControlPlane', cpTemplate);
    machines['w-1'] = awsMachine(cluster, 'demo-w-1', 'Worker', workerTemplate);
    machines['w-2'] = awsMachine(cluster, 'demo-w-2', 'Worker', workerTemplate);
    calls.reset();
    reports['cp-1'] = await machineReady(provider, ctxOf('cp-1'));
    figures.push(calls.format('one control-plane machine to ready'));
    reports['w-1'] = await machineReady(provider, ctxOf('w-1'));
    reports['w-2'] = await machineReady(provider, ctxOf('w-2'));
    expect(calls.count('RunInstances')).toBe(3);

    for (const name of ['cp-1', 'w-1', 'w-2']) {
      const report = reports[name] as MachineStatusReport;
      const i = await instance(instanceIdOf(name));
      expect(report.providerID).toBe(`aws:///${i.Placement?.AvailabilityZone}/${i.InstanceId}`);
      expect(report.addresses).toContainEqual({ type: 'InternalIP', address: i.PrivateIpAddress });
      const t = Object.fromEntries((i.Tags ?? []).map((x) => [x.Key, x.Value]));
      expect(t).toMatchObject({
        [tagKey]: 'owned',
        'kubernetes.io/cluster/demo': 'owned',
        Name: machines[name]?.metadata.name,
        'clusterforge.dev/machine': machines[name]?.metadata.name,
        'clusterforge.dev/machine-uid': machines[name]?.metadata.uid,
        'clusterforge.dev/machine-role': machines[name]?.spec.role,
      });
      expect(i.State?.Name).toBe('running');
      expect(i.MetadataOptions?.HttpTokens).toBe('required');
    }
    const cp = await instance(instanceIdOf('cp-1'));
    expect(cp.InstanceType).toBe('m7i.large');
    const [w1, w2] = [await instance(instanceIdOf('w-1')), await instance(instanceIdOf('w-2'))];
    expect(w1.InstanceType).toBe('m7i.xlarge');
    // The template's root volume, provisioned IOPS and throughput included (BlockDeviceMappings).
    const rootId = w1.BlockDeviceMappings?.[0]?.Ebs?.VolumeId;
    const root = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [rootId as string] }))).Volumes?.[0];
    expect(root).toMatchObject({ Size: 60, VolumeType: 'gp3', Encrypted: true });
    const workerRuns = runInputs.filter((i) => i.InstanceType === 'm7i.xlarge');
    expect(workerRuns.length).toBeGreaterThan(0);
    for (const input of workerRuns) {
      expect(input.BlockDeviceMappings[0].Ebs).toMatchObject({
        VolumeType: 'gp3',
        Iops: 4000,
        Throughput: 250,
      });
    }
    // Workers spread over the two private subnets (zones).
    expect(new Set([w1.SubnetId, w2.SubnetId]).size).toBe(2);

    // The control-plane instance is in the API target group; the workers are not.
    const tg = (await ownedInventory(tagKey)).targetGroup[0] as string;
    const tgArn = (await elbv2.send(new DescribeTargetGroupsCommand({ Names: [tg] }))).TargetGroups?.[0]
      ?.TargetGroupArn;
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    expect(health.TargetHealthDescriptions?.map((d) => d.Target?.Id)).toEqual([cp.InstanceId]);

    // User data: kubeadm init on the first control-plane machine, with the CA keys ...
    const init = await bootstrapOf(ec2, cp.InstanceId as string);
    expect(init.header).toBe('## template: jinja');
    expect(init.secondLine).toBe('#cloud-config');
    expect(init.documents.map((d) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration']);
    const [initConfig, clusterConfig] = init.documents as [Record<string, any>, Record<string, any>];
    expect(initConfig.apiVersion).toBe('kubeadm.k8s.io/v1beta4');
    // init's own token, short-lived: every join has a token of its own.
    expect(initConfig.bootstrapTokens[0]).toMatchObject({
      token: expect.stringMatching(/^[a-z0-9]{6}\./),
      ttl: '900s',
    });
    expect(clusterConfig).toMatchObject({
      clusterName: 'demo',
      kubernetesVersion: 'v1.33.1',
      controlPlaneEndpoint: `${endpoint.host}:6443`,
      networking: { podSubnet: '192.168.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' },
      apiServer: { certSANs: [endpoint.host] },
    });
    expect(init.paths).toEqual(
      expect.arrayContaining([
        '/etc/kubernetes/pki/ca.crt',
        '/etc/kubernetes/pki/ca.key',
        '/etc/kubernetes/pki/etcd/ca.key',
        '/etc/kubernetes/pki/front-proxy-ca.key',
        '/etc/kubernetes/pki/sa.key',
        '/etc/kubernetes/pki/sa.pub',
      ]),
    );
    const caFile = init.cloudConfig.write_files.find((f) => f.path === '/etc/kubernetes/pki/ca.key');
    expect(caFile?.content).toBe(certs.ca.key);
    expect(caFile?.permissions).toBe('0600');
    expect(init.cloudConfig.runcmd[0]).toMatch(/^kubeadm init --config \/run\/kubeadm\/kubeadm\.yaml/);

    // ... and kubeadm join on the workers, with no key of any CA.
    const joinTokens = new Set<string>();
    for (const [name, w] of [
      ['w-1', w1],
      ['w-2', w2],
    ] as const) {
      const join = await bootstrapOf(ec2, w.InstanceId as string);
      const [secret] = await joinTokenSecrets(kc, machines[name] as Machine);
      const token = `${secretText(secret!, 'token-id')}.${secretText(secret!, 'token-secret')}`;
      joinTokens.add(token);
      expect(join.documents.map((d) => d.kind)).toEqual(['JoinConfiguration']);
      const config = join.documents[0] as Record<string, any>;
      expect(config.controlPlane).toBeUndefined();
      expect(config.discovery.bootstrapToken).toEqual({
        apiServerEndpoint: `${endpoint.host}:6443`,
        token,
        caCertHashes: [caCertHash(certs.ca.cert)],
      });
      expect(join.paths).toEqual([KUBEADM_CONFIG_PATH]);
      for (const key of [certs.ca.key, certs.etcd.key, certs.sa.key, certs.proxy.key]) {
        expect(join.raw).not.toContain(key.split('\n')[1]);
      }
      expect(join.cloudConfig.runcmd[0]).toMatch(/^kubeadm join --config/);
    }
    expect(joinTokens.size).toBe(2); // a token per machine
  });

  it('a second control-plane machine joins the control plane', async () => {
    machines['cp-2'] = awsMachine(cluster, 'demo-cp-2', 'ControlPlane', cpTemplate);
    reports['cp-2'] = await machineReady(provider, ctxOf('cp-2'));
    const join = await bootstrapOf(ec2, instanceIdOf('cp-2'));
    expect(join.documents.map((d) => d.kind)).toEqual(['JoinConfiguration']);
    expect(join.documents[0]?.controlPlane).toBeDefined();
    expect(join.paths).toContain('/etc/kubernetes/pki/ca.key');
    // Spread: the second control-plane machine is in the other zone.
    const zones = [reports['cp-1'], reports['cp-2']].map((r) => r?.providerID?.split('/')[3]);
    expect(new Set(zones).size).toBe(2);
  });

  it('a repeated ensureMachine, a restart, and a crash right after RunInstances make no second instance', async () => {
    calls.reset();
    for (const name of Object.keys(machines))
      expect((await provider.ensureMachine(ctxOf(name))).ready).toBe(true);
    provider = new AwsEc2Provider({ clients: factory, ...standIn });
    for (const name of Object.keys(machines))
      expect((await provider.ensureMachine(ctxOf(name))).ready).toBe(true);
    expect(calls.count('RunInstances')).toBe(0);

    // A crash between RunInstances and the status write: the instance exists, the Machine never
    // learnt its providerID, and a new process reconciles the same Machine.
    machines['w-3'] = awsMachine(cluster, 'demo-w-3', 'Worker', workerTemplate);
    const first = await provider.ensureMachine(ctxOf('w-3'));
    expect(first.providerID).toMatch(/^aws:\/\/\/us-east-1[ab]\/i-/);
    provider = new AwsEc2Provider({ clients: factory, ...standIn });
    reports['w-3'] = await machineReady(provider, ctxOf('w-3'));
    expect(reports['w-3'].providerID).toBe(first.providerID);
    expect(calls.count('RunInstances')).toBe(1);

    for (const name of Object.keys(machines)) {
      expect(await instancesOfMachine(tagKey, machines[name]?.metadata.name as string), name).toHaveLength(1);
    }
  });

  it('scale down: a worker is terminated; a control-plane machine leaves the target group first', async () => {
    await deleteFully(provider, ctxOf('w-3'));
    expect((await instance(instanceIdOf('w-3'))).State?.Name).toBe('terminated');

    const tgArn = (
      await elbv2.send(new DescribeTargetGroupsCommand({ Names: (await ownedInventory(tagKey)).targetGroup }))
    ).TargetGroups?.[0]?.TargetGroupArn;
    const cp2 = instanceIdOf('cp-2');
    const step1 = await provider.deleteMachine(ctxOf('cp-2'));
    expect(step1.state).toBe('inProgress');
    const targets = (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn })))
      .TargetHealthDescriptions;
    expect(targets?.map((t) => t.Target?.Id)).toEqual([instanceIdOf('cp-1')]);
    expect((await instance(cp2)).State?.Name).toBe('running'); // deregistered before terminated
    await deleteFully(provider, ctxOf('cp-2'));
    expect((await instance(cp2)).State?.Name).toBe('terminated');
    delete machines['w-3'];
    delete machines['cp-2'];
    // A deleted machine is gone for good: deleting again is done at once.
    expect(
      await provider.deleteMachine(
        machineCtx(cluster, certs, awsMachine(cluster, 'demo-cp-2', 'ControlPlane', cpTemplate), cpTemplate),
      ),
    ).toEqual({ state: 'done' });
  });

  it('kubeconfig: an admin certificate from the cluster CA for the load balancer', async () => {
    const material = await provider.kubeconfig(clusterCtx(cluster, certs));
    expect(material.server).toBe(`https://${endpoint.host}:6443`);
    expect(material.caData).toBe(certs.ca.cert);
    const cert = loadCertificate(material.clientCertData as string);
    expect(cert.issuer).toBe(loadCertificate(certs.ca.cert).subject);
    expect(material.expiresAt?.getTime()).toBe(cert.notAfter.getTime());
  });

  it('deleteInfrastructure reaches done and leaves nothing of any type tagged for the cluster', async () => {
    // cp-1, w-1 and w-2 still run: the infrastructure delete terminates what machines left behind.
    expect((await ownedInventory(tagKey)).instance).toHaveLength(3);
    calls.reset();
    let passes = 0;
    const messages: string[] = [];
    await driveUntilDone(
      'delete infrastructure',
      async () => {
        passes++;
        const progress = await provider.deleteInfrastructure(clusterCtx(cluster));
        if (progress.state === 'inProgress') messages.push(progress.message);
        return { progress };
      },
      TIMEOUT,
    );
    figures.push(
      calls.format(
        `deleteInfrastructure to done, 3 instances left running (${passes} calls of the provider)`,
      ),
    );
    expect(messages[0]).toMatch(/^deleting instances: instance i-/);
    expect(await ownedInventory(tagKey)).toEqual({
      vpc: [],
      subnet: [],
      internetGateway: [],
      natGateway: [],
      elasticIP: [],
      routeTable: [],
      securityGroup: [],
      loadBalancer: [],
      targetGroup: [],
      instance: [],
      volume: [],
    });
    // And once more, from a new process: nothing to do.
    provider = new AwsEc2Provider({ clients: factory, ...standIn });
    expect(await provider.deleteInfrastructure(clusterCtx(cluster))).toEqual({ state: 'done' });
  });
});
