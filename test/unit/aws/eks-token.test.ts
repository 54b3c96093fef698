// The EKS token: our SigV4 presigning of STS GetCallerIdentity, checked against the AWS SDK's own
// signer (@smithy/signature-v4, installed with the SDK) for the same request, time and credentials.
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eksClusterName, minorOf } from '../../../providers/aws-eks/services/controlplane.js';
import { nodegroupVersion } from '../../../providers/aws-eks/services/nodegroups.js';
import {
  eksToken,
  getTokenExec,
  presignGetCallerIdentity,
} from '../../../providers/aws-eks/services/token.js';
import { renderKubeconfig } from '../../../src/pki/kubeconfig.js';

const toBuffer = (data: string | ArrayBuffer | ArrayBufferView): Buffer =>
  typeof data === 'string'
    ? Buffer.from(data)
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

/** The hash the SDK's signer wants, over node:crypto (HMAC when given a key). */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac('sha256', toBuffer(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session/token+with=odd&chars',
};
const when = new Date('2026-05-04T03:02:01Z');

describe('EKS token', () => {
  for (const creds of [
    credentials,
    { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
  ]) {
    it(`signs as the SDK does (${creds === credentials ? 'with' : 'without'} a session token)`, async () => {
      const ours = new URL(
        presignGetCallerIdentity({
          region: 'eu-west-1',
          credentials: creds,
          clusterName: 'team-a_prod',
          now: when,
        }),
      );
      const signer = new SignatureV4({
        service: 'sts',
        region: 'eu-west-1',
        credentials: creds,
        sha256: NodeSha256,
      });
      const theirs = await signer.presign(
        {
          method: 'GET',
          protocol: 'https:',
          hostname: 'sts.eu-west-1.amazonaws.com',
          path: '/',
          query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
          headers: { host: 'sts.eu-west-1.amazonaws.com', 'x-k8s-aws-id': 'team-a_prod' },
        },
        { expiresIn: 60, signingDate: when },
      );
      const query = theirs.query as Record<string, string>;
      expect(ours.searchParams.get('X-Amz-Signature')).toBe(query['X-Amz-Signature']);
      for (const key of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders']) {
        expect(ours.searchParams.get(key), key).toBe(query[key]);
      }
      expect(ours.searchParams.get('X-Amz-Security-Token')).toBe(
        'sessionToken' in creds ? creds.sessionToken : null,
      );
    });
  }

  it('is k8s-aws-v1. and the base64url of the URL, valid 15 minutes', () => {
    const { token, expiresAt } = eksToken({ region: 'us-east-1', credentials, clusterName: 'c', now: when });
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toContain('=');
    const url = Buffer.from(token.slice(11), 'base64url').toString();
    expect(url).toMatch(
      /^https:\/\/sts\.us-east-1\.amazonaws\.com\/\?Action=GetCallerIdentity&Version=2011-06-15&/,
    );
    expect(expiresAt.getTime() - when.getTime()).toBe(15 * 60_000);
  });

  it('the user kubeconfig runs aws eks get-token and holds no credential', () => {
    const text = renderKubeconfig({
      clusterName: 'prod',
      server: 'https://x.eks.amazonaws.com:443',
      caData: 'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=',
      exec: getTokenExec('team-a_prod', 'eu-west-1'),
      user: 'prod-user',
    });
    const config = parse(text);
    expect(config.users[0].user.exec).toMatchObject({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      command: 'aws',
      args: [
        'eks',
        'get-token',
        '--cluster-name',
        'team-a_prod',
        '--region',
        'eu-west-1',
        '--output',
        'json',
      ],
    });
    expect(text).not.toMatch(/token:|client-key/);
  });
});

describe('EKS names and versions', () => {
  it('cluster names are <namespace>_<name>, at most 100 characters', () => {
    expect(eksClusterName({ namespace: 'team-a', name: 'prod' })).toBe('team-a_prod');
    expect(eksClusterName({ namespace: 'n'.repeat(63), name: 'c'.repeat(40) }).length).toBe(100);
  });

  it('versions are minors; a node group is never newer than its control plane', () => {
    expect(minorOf('v1.31.4')).toBe('1.31');
    const pool = { spec: { version: 'v1.33.0' } } as Parameters<typeof nodegroupVersion>[0];
    expect(nodegroupVersion(pool, '1.32')).toBe('1.32');
    expect(nodegroupVersion({ spec: { version: 'v1.31.9' } } as typeof pool, '1.32')).toBe('1.31');
  });
});
