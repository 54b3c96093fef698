// Random VALID objects of every kind, for each provider, drawn through fast-check (its seed, replay
// path and shrinking). Each draw keeps to the rules of the CRDs as docs/api-validation.md lists them,
// so the API server must accept all of them: pod blocks in 192.168.0.0/16, service blocks in
// 172.16.0.0/12 and VPCs in 10.128.0.0/9 never overlap, and EBS IOPS follow the type's bounds.
import fc from 'fast-check';
import type { Obj } from './objects.js';

const API = 'clusterforge.dev/v1alpha1';

/** The draws the generators below make, each one a fast-check arbitrary (so failures shrink). */
export class Random {
  constructor(private readonly g: fc.GeneratorValue) {}
  int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }
  bool(): boolean {
    return this.g(fc.boolean);
  }
  pick<T>(items: readonly T[]): T {
    return this.g(() => fc.constantFrom(...items));
  }
  /** Some of `items`, each at most once, in their order. */
  some<T>(items: readonly T[], min = 0, max = items.length): T[] {
    return this.g(() => fc.subarray([...items], { minLength: min, maxLength: max }));
  }
  maybe<T>(make: () => T): T | undefined {
    return this.bool() ? make() : undefined;
  }
  /** A word starting with a letter, of min to max characters of `alphabet`. */
  word(min: number, max: number, alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'): string {
    const first = this.pick([...'abcdefghijklmnopqrstuvwxyz']);
    const rest = this.g(() =>
      fc.array(fc.constantFrom(...alphabet), {
        minLength: Math.max(0, min - 1),
        maxLength: Math.max(0, max - 1),
      }),
    );
    return first + rest.join('');
  }
}

/** Drops the keys whose value is undefined, so an absent field is absent, not null. */
const defined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

const ip = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
const base = (block: string) =>
  block
    .split('/')[0]!
    .split('.')
    .reduce((n, o) => n * 256 + Number(o), 0);

/** A random block of `prefix` inside the block `outer`, written as its network address. */
function blockIn(r: Random, outer: string, prefix: number): string {
  const outerPrefix = Number(outer.split('/')[1]);
  const slot = r.int(0, 2 ** (prefix - outerPrefix) - 1);
  return `${ip(base(outer) + slot * 2 ** (32 - prefix))}/${prefix}`;
}

const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-2'] as const;
const FAMILIES = ['m7i', 'm7i-flex', 'c6g', 't3', 'r6gd', 'u-6tb1', 'p4de'] as const;
const SIZES = ['large', 'xlarge', '2xlarge', '16xlarge', 'metal', 'medium'] as const;
const DURATIONS = ['30s', '5m', '1h30m', '90s', '0.5h', '250ms'] as const;
const hex = (r: Random, n: number) =>
  r.word(n, n, '0123456789abcdef').replace(/^./, () => r.pick(['0', 'a']));

const dnsSubdomain = (r: Random) => Array.from({ length: r.int(1, 3) }, () => r.word(1, 12)).join('.');
const labelKey = (r: Random) => {
  const prefix = r.bool() ? `${dnsSubdomain(r)}/` : '';
  return `${prefix}${r.word(1, 20, 'abcdefghij0123456789-_.')}x`;
};
const arn = (r: Random, kind: 'role' | 'instance-profile') =>
  `arn:aws:iam::${r.word(12, 12, '0123456789').replace(/^./, '1')}:${kind}/${r.word(1, 20)}`;

function awsNetwork(r: Random, region: string): Obj {
  const vpcPrefix = r.int(16, 24);
  // Clear of the default service block 10.96.0.0/12 too, which a cluster without clusterNetwork gets.
  const vpc = blockIn(r, '10.128.0.0/9', vpcPrefix);
  const zones = r.some(['a', 'b', 'c', 'd', 'e', 'f'], 1, 6).map((z) => `${region}${z}`);
  const subnetPrefix = Math.min(28, vpcPrefix + 4);
  return defined({
    vpc: { cidrBlock: vpc },
    ...(r.bool() ? { availabilityZones: zones } : { availabilityZoneCount: r.int(1, 6) }),
    subnets: r.maybe(() =>
      Array.from({ length: r.int(1, 4) }, () =>
        defined({
          cidrBlock: blockIn(r, vpc, subnetPrefix),
          availabilityZone: r.maybe(() => r.pick(zones)),
          public: r.bool(),
        }),
      ),
    ),
  });
}

const tags = (r: Random) =>
  r.maybe(() =>
    Object.fromEntries(Array.from({ length: r.int(1, 5) }, () => [`team:${r.word(1, 30)}`, r.word(0, 40)])),
  );

function publish(r: Random, provider: string): Obj | undefined {
  return r.maybe(() => {
    const target = () =>
      defined({
        name: r.maybe(() => r.word(1, 20)),
        namespace: r.maybe(() => r.word(1, 20)),
        labels: r.maybe(() => Array.from({ length: r.int(0, 3) }, () => labelKey(r))),
      });
    const out: Obj = {};
    for (const t of r.some(['argoCD', 'fleet', 'karmada', 'istio', 'flux'], 1)) out[t] = target();
    if (out.argoCD && provider === 'awsEKS' && r.bool()) out.argoCD.awsRoleARN = arn(r, 'role');
    return out;
  });
}

function infrastructure(r: Random, provider: string): Obj {
  const region = r.pick(REGIONS);
  if (provider === 'local') return { local: r.bool() ? { bindAddress: '127.0.0.1' } : {} };
  if (provider === 'inMemory') return { inMemory: {} };
  const placement = defined({
    region,
    network: r.maybe(() => awsNetwork(r, region)),
    additionalTags: tags(r),
  });
  if (provider === 'awsEC2')
    return { awsEC2: defined({ ...placement, sshKeyName: r.maybe(() => r.word(1, 30)) }) };
  return {
    awsEKS: defined({
      ...placement,
      roleARN: arn(r, 'role'),
      nodeRoleARN: arn(r, 'role'),
      endpointAccess: r.maybe(() => ({ public: r.bool(), private: r.bool() })),
    }),
  };
}

function clusterNetwork(r: Random): Obj {
  return defined({
    pods: { cidrBlocks: [blockIn(r, '192.168.0.0/16', r.int(16, 24))] },
    services: { cidrBlocks: [blockIn(r, '172.16.0.0/12', r.int(12, 24))] },
    serviceDomain: r.maybe(() => dnsSubdomain(r)),
  });
}

function rootVolume(r: Random): Obj {
  const type = r.pick(['gp2', 'gp3', 'io1', 'io2'] as const);
  const sizeGiB = r.bool() ? r.int(8, 100) : r.int(8, 16384);
  if (type === 'gp2') return { type, sizeGiB };
  if (type === 'gp3') {
    const iops = r.maybe(() => r.int(3000, Math.min(16000, 500 * sizeGiB)));
    const throughput = r.maybe(() => r.int(125, Math.min(1000, Math.floor((iops ?? 3000) / 4))));
    return defined({ type, sizeGiB, iops, throughput });
  }
  const [max, perGiB] = type === 'io1' ? [64000, 50] : [256000, 1000];
  return { type, sizeGiB, iops: r.int(100, Math.min(max, perGiB * sizeGiB)) };
}

function machineSettings(r: Random, provider: string): Obj {
  if (provider === 'local')
    return defined({
      worker: r.maybe(() => r.pick(['Simulated', 'Kubelet'])),
      images: r.maybe(() =>
        Array.from({ length: r.int(0, 2) }, () => `/var/lib/images/${r.word(1, 10)}.tar`),
      ),
      nodeHeartbeatSeconds: r.maybe(() => r.int(5, 300)),
    });
  if (provider === 'inMemory') return defined({ startupDelaySeconds: r.maybe(() => r.int(0, 600)) });
  const instanceType = () => `${r.pick(FAMILIES)}.${r.pick(SIZES)}`;
  if (provider === 'awsEC2')
    return defined({
      instanceType: instanceType(),
      ami: r.maybe(() => ({ id: `ami-${hex(r, r.int(8, 17))}` })),
      rootVolume: r.maybe(() => rootVolume(r)),
      sshKeyName: r.maybe(() => r.word(1, 30)),
      iamInstanceProfile: r.maybe(() =>
        r.bool() ? r.word(1, 60, 'abc123+=,.@_-') : arn(r, 'instance-profile'),
      ),
      subnetID: r.maybe(() => `subnet-${hex(r, 17)}`),
    });
  return defined({
    instanceTypes: r.maybe(() => Array.from({ length: r.int(1, 4) }, instanceType)),
    amiType: r.maybe(() =>
      r.pick(['AL2023_x86_64_STANDARD', 'AL2023_ARM_64_STANDARD', 'BOTTLEROCKET_x86_64']),
    ),
    diskSizeGiB: r.maybe(() => r.int(8, 16384)),
    capacityType: r.maybe(() => r.pick(['ON_DEMAND', 'SPOT'])),
  });
}

const version = (r: Random) => `v1.${r.int(31, 37)}.${r.int(0, 20)}`;

export const PROVIDERS = ['local', 'awsEC2', 'awsEKS', 'inMemory'] as const;

/** The objects of one random valid cluster of `provider`, named after `id`: Cluster first. */
export function randomCluster(r: Random, provider: (typeof PROVIDERS)[number], id: string): Obj[] {
  const name = `${id}-${r.word(1, 40 - id.length - 1)}`;
  const managed = provider === 'awsEKS';
  const meta = (n: string) => ({ name: n });
  const template = (n: string): Obj => ({
    apiVersion: API,
    kind: 'MachineTemplate',
    metadata: meta(n),
    spec: { template: { spec: { [provider]: machineSettings(r, provider) } } },
  });
  const cluster: Obj = {
    apiVersion: API,
    kind: 'Cluster',
    metadata: meta(name),
    spec: defined({
      infrastructure: infrastructure(r, provider),
      clusterNetwork: r.maybe(() => clusterNetwork(r)),
      controlPlaneRef: { name: `${id}-cp` },
      paused: r.maybe(() => r.bool()),
      publish: publish(r, provider),
    }),
  };
  const controlPlane: Obj = {
    apiVersion: API,
    kind: 'ControlPlane',
    metadata: meta(`${id}-cp`),
    spec: defined({
      version: version(r),
      replicas: managed ? r.int(0, 3) : r.pick([1, 3, 5, 7]),
      machineTemplateRef: managed ? undefined : { name: `${id}-cp-machines` },
      rolloutStrategy: r.maybe(() => ({ maxSurge: r.int(0, 1) })),
      nodeDrainTimeout: r.maybe(() => r.pick(DURATIONS)),
    }),
  };
  const maxSurge = r.int(0, 100);
  const pool: Obj = {
    apiVersion: API,
    kind: 'MachineDeployment',
    metadata: meta(`${id}-${r.word(1, 50 - id.length - 1)}`),
    spec: defined({
      clusterName: name,
      replicas: r.int(0, 1000),
      version: version(r),
      machineTemplateRef: { name: `${id}-workers` },
      nodeDrainTimeout: r.maybe(() => r.pick(DURATIONS)),
      strategy: r.maybe(() => ({ maxSurge, maxUnavailable: r.int(maxSurge === 0 ? 1 : 0, 100) })),
    }),
  };
  return [
    cluster,
    controlPlane,
    ...(managed ? [] : [template(`${id}-cp-machines`)]),
    template(`${id}-workers`),
    pool,
  ];
}
