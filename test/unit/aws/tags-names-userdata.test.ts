// Tags, names, ClientTokens, CIDR carving and kubeadm user data: the pure parts of the AWS providers.
import { createHash, X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { clientToken, elbName } from '../../../providers/aws-common/names.js';
import { clusterTagKey, isOwned, ownedFilters, ownedTags } from '../../../providers/aws-common/tags.js';
import { subdivide } from '../../../providers/aws-ec2/cidr.js';
import { architectureOf } from '../../../providers/aws-ec2/services/images.js';
import { desiredIngress } from '../../../providers/aws-ec2/services/securitygroups.js';
import {
  type BootstrapInput,
  caCertHash,
  renderUserData,
  USER_DATA_LIMIT,
} from '../../../providers/aws-ec2/userdata.js';
import { generateClusterCertificates } from '../../../src/pki/index.js';
import type { ClusterCertificates } from '../../../src/provider/contract.js';

const id = { namespace: 'team-a', name: 'prod', uid: '4f6b0a7e-0000-4000-8000-000000000001' };

describe('tags', () => {
  it('owned tags: ours win over additionalTags', () => {
    const tags = ownedTags(id, { name: 'prod-vpc', role: 'vpc', additional: { Name: 'mine', cost: 'x' } });
    expect(tags).toEqual({
      cost: 'x',
      'clusterforge.dev/cluster/team-a.prod': 'owned',
      'kubernetes.io/cluster/prod': 'owned',
      Name: 'prod-vpc',
      'clusterforge.dev/role': 'vpc',
    });
    expect(isOwned(tags, id)).toBe(true);
    expect(isOwned({ 'clusterforge.dev/cluster/team-b.prod': 'owned' }, id)).toBe(false);
    expect(ownedFilters(id, { 'clusterforge.dev/role': 'vpc' })).toEqual([
      { Name: 'tag:clusterforge.dev/cluster/team-a.prod', Values: ['owned'] },
      { Name: 'tag:clusterforge.dev/role', Values: ['vpc'] },
    ]);
  });

  it('a tag key stays within AWS’s 128 characters and unique', () => {
    const long = { namespace: 'n'.repeat(63), name: 'c'.repeat(40) };
    const key = clusterTagKey(long);
    expect(key.length).toBe(128);
    expect(key).not.toBe(clusterTagKey({ ...long, name: `${'c'.repeat(39)}d` }));
  });
});

describe('names and tokens', () => {
  it('load balancer names: at most 32 characters, unique per cluster incarnation', () => {
    const name = elbName({ ...id, name: 'a-very-long-cluster-name-of-forty-chars' }, 'api');
    expect(name.length).toBeLessThanOrEqual(32);
    expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]$/);
    expect(elbName(id, 'api')).toMatch(/^prod-[0-9a-f]{6}-api$/);
    expect(elbName(id, 'api')).not.toBe(elbName({ ...id, uid: 'other' }, 'api'));
  });

  it('ClientTokens: stable for the same object and purpose, at most 64 characters', () => {
    expect(clientToken('uid-1', 'instance')).toBe(clientToken('uid-1', 'instance'));
    expect(clientToken('uid-1', 'instance')).not.toBe(clientToken('uid-2', 'instance'));
    expect(clientToken('uid-1', 'instance')).not.toBe(clientToken('uid-1', 'nat'));
    expect(clientToken('uid-1', 'instance').length).toBeLessThanOrEqual(64);
  });

  it('subnets are carved from the VPC block', () => {
    expect(subdivide('10.0.0.0/16', 4, 0)).toBe('10.0.0.0/20');
    expect(subdivide('10.0.0.0/16', 4, 8)).toBe('10.0.128.0/20');
    expect(subdivide('10.0.0.0/16', 4, 13)).toBe('10.0.208.0/20');
    expect(() => subdivide('10.0.0.0/30', 4, 0)).toThrow();
  });

  it('Graviton instance types take arm64 images', () => {
    expect(architectureOf('m7g.large')).toBe('arm64');
    expect(architectureOf('c6gn.xlarge')).toBe('arm64');
    expect(architectureOf('m7i.large')).toBe('x86_64');
    expect(architectureOf('t3.medium')).toBe('x86_64');
  });
});

describe('security group rules', () => {
  it('the control plane takes the API only from the load balancer and the machines; etcd only from itself', () => {
    const rules = desiredIngress();
    const api = rules.controlPlane.filter((r) => r.fromPort === 6443);
    expect(api.map((r) => r.source)).toEqual([
      { group: 'apiServerLB' },
      { group: 'controlPlane' },
      { group: 'node' },
    ]);
    expect(rules.controlPlane.filter((r) => r.fromPort === 2379).map((r) => r.source)).toEqual([
      { group: 'controlPlane' },
    ]);
    expect(rules.apiServerLB).toHaveLength(1);
    expect(rules.node.some((r) => r.fromPort === 2379)).toBe(false);
  });
});

describe('kubeadm user data', () => {
  let certs: ClusterCertificates;
  const input = (role: BootstrapInput['role']): BootstrapInput => ({
    role,
    clusterName: 'prod',
    kubernetesVersion: 'v1.33.1',
    endpoint: { host: 'prod-abc123-api-1.us-east-1.elb.amazonaws.com', port: 6443 },
    podCIDR: '192.168.0.0/16',
    serviceCIDR: '10.96.0.0/12',
    serviceDomain: 'cluster.local',
    certificates: certs,
    token: 'abcdef.0123456789abcdef',
    tokenTTL: '900s',
  });
  const decode = (text: string) => {
    const config = parse(text.split('\n').slice(1).join('\n')) as {
      write_files: { path: string; content: string }[];
    };
    const kubeadm = config.write_files.find((f) => f.path === '/run/kubeadm/kubeadm.yaml')?.content ?? '';
    return { config, docs: parseAllDocuments(kubeadm).map((d) => d.toJSON()) };
  };

  beforeAll(async () => {
    certs = await generateClusterCertificates();
  });

  it('init makes its token with the short TTL, not kubeadm’s 24 h default; a join carries its own', () => {
    const init = decode(renderUserData(input('init'))).docs[0];
    expect(init.bootstrapTokens).toEqual([
      expect.objectContaining({ token: 'abcdef.0123456789abcdef', ttl: '900s' }),
    ]);
    const join = decode(renderUserData(input('joinWorker'))).docs[0];
    expect(join.discovery.bootstrapToken.token).toBe('abcdef.0123456789abcdef');
  });

  it('the CA hash is sha256 of the CA’s public key info, as kubeadm computes it', () => {
    const spki = new X509Certificate(certs.ca.cert).publicKey.export({ type: 'spki', format: 'der' });
    expect(caCertHash(certs.ca.cert)).toBe(`sha256:${createHash('sha256').update(spki).digest('hex')}`);
  });

  it('init and control-plane join carry the CA keys; a worker carries none; all fit in 16 KiB', () => {
    for (const role of ['init', 'joinControlPlane', 'joinWorker'] as const) {
      const text = renderUserData(input(role));
      expect(Buffer.byteLength(text), role).toBeLessThan(USER_DATA_LIMIT);
      expect(text.startsWith('## template: jinja\n#cloud-config\n')).toBe(true);
      const { config, docs } = decode(text);
      const paths = config.write_files.map((f) => f.path);
      if (role === 'joinWorker') {
        expect(paths).toEqual(['/run/kubeadm/kubeadm.yaml']);
        for (const pair of [certs.ca, certs.etcd, certs.sa, certs.proxy])
          expect(text).not.toContain(pair.key.split('\n')[1]);
        expect(docs).toHaveLength(1);
        expect(docs[0]).not.toHaveProperty('controlPlane');
      } else {
        expect(paths).toContain('/etc/kubernetes/pki/ca.key');
        expect(paths).toContain('/etc/kubernetes/pki/etcd/ca.key');
      }
      if (role === 'init')
        expect(docs.map((d: any) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration']);
      if (role === 'joinControlPlane')
        expect(docs[0]).toHaveProperty('controlPlane.localAPIEndpoint.bindPort', 6443);
      const kubelet = docs[0].nodeRegistration.kubeletExtraArgs;
      expect(kubelet).toContainEqual({
        name: 'provider-id',
        value: 'aws:///{{ v1.availability_zone }}/{{ v1.instance_id }}',
      });
    }
  });
});
