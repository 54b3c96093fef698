// The bearer token EKS accepts: a presigned STS GetCallerIdentity URL, bound to the cluster by the
// signed `x-k8s-aws-id` header, as `k8s-aws-v1.<base64url(url)>` (what `aws eks get-token` and
// aws-iam-authenticator make). Signed here with SigV4 query parameters (node:crypto); the unit test
// checks the signature against the SDK's own signer.
import { createHash, createHmac } from 'node:crypto';

export const TOKEN_PREFIX = 'k8s-aws-v1.';
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** EKS accepts a token for 15 minutes after it was signed. */
export const TOKEN_LIFETIME_MS = 15 * 60_000;
/** The presigned URL's own expiry, as aws-iam-authenticator sets it. */
const PRESIGN_EXPIRES_SECONDS = 60;

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function amzDate(when: Date): { dateTime: string; date: string } {
  const dateTime = when
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { dateTime, date: dateTime.slice(0, 8) };
}

/** The STS host of a region (the partition's, for the China regions). */
export function stsHost(region: string): string {
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/** A presigned `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity...` URL. */
export function presignGetCallerIdentity(opts: {
  region: string;
  credentials: SigningCredentials;
  clusterName: string;
  now?: Date;
}): string {
  const host = stsHost(opts.region);
  const { dateTime, date } = amzDate(opts.now ?? new Date());
  const scope = `${date}/${opts.region}/sts/aws4_request`;
  const signedHeaders = `host;${CLUSTER_ID_HEADER}`;
  const params: Record<string, string> = {
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${opts.credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': dateTime,
    'X-Amz-Expires': String(PRESIGN_EXPIRES_SECONDS),
    'X-Amz-SignedHeaders': signedHeaders,
    ...(opts.credentials.sessionToken ? { 'X-Amz-Security-Token': opts.credentials.sessionToken } : {}),
  };
  const query = Object.keys(params)
    .sort()
    .map((k) => `${encode(k)}=${encode(params[k] as string)}`)
    .join('&');
  const canonicalRequest = [
    'GET',
    '/',
    query,
    `host:${host}\n${CLUSTER_ID_HEADER}:${opts.clusterName}\n`,
    signedHeaders,
    sha256Hex(''),
  ].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', dateTime, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${opts.credentials.secretAccessKey}`, date), opts.region), 'sts'),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `https://${host}/?${query}&X-Amz-Signature=${signature}`;
}

/** The token for `clusterName`, and when EKS stops accepting it. */
export function eksToken(opts: Parameters<typeof presignGetCallerIdentity>[0]): {
  token: string;
  issuedAt: Date;
  expiresAt: Date;
} {
  const now = opts.now ?? new Date();
  const url = presignGetCallerIdentity({ ...opts, now });
  return {
    token: `${TOKEN_PREFIX}${Buffer.from(url).toString('base64url')}`,
    issuedAt: now,
    expiresAt: new Date(now.getTime() + TOKEN_LIFETIME_MS),
  };
}

/**
 * The credential plug-in of `<cluster>-user-kubeconfig`, for people: `aws eks get-token` makes a
 * token from the user's own AWS identity each time, so the kubeconfig holds no credential.
 */
export function getTokenExec(eksClusterName: string, region: string): { command: string; args: string[] } {
  return {
    command: 'aws',
    args: ['eks', 'get-token', '--cluster-name', eksClusterName, '--region', region, '--output', 'json'],
  };
}
