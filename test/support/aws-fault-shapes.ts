// What an AWS request is (service and action, read from the wire) and how each AWS protocol spells
// an error, as the SDK v3 parses them (@aws-sdk/core's protocols): EC2's query protocol reads
// `Response/Errors/Error/Code`, the query protocol of ELBv2, IAM and STS reads `ErrorResponse/Error/Code`,
// and EKS's REST-JSON reads the `x-amzn-ErrorType` header (then the body's `code`/`__type`).
import type { IncomingHttpHeaders } from 'node:http';

export type FaultKind = 'throttle' | 'http500' | 'http503' | 'drop';
export const FAULT_KINDS: readonly FaultKind[] = ['throttle', 'http500', 'http503', 'drop'];

export interface AwsRequestName {
  /** The SigV4 scope's service: ec2, elasticloadbalancing, eks, sts, iam. */
  service: string;
  /** The API action: RunInstances, CreateCluster, ... ("Unknown" when not read). */
  action: string;
}

/** The service of a SigV4-signed request, from the credential scope of its Authorization header. */
function serviceOf(headers: IncomingHttpHeaders): string {
  const auth = String(headers.authorization ?? '');
  return /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(auth)?.[1] ?? 'unknown';
}

/** EKS's REST routes (the ones Clusterforge calls), method and path to action. */
const EKS_ROUTES: [string, RegExp, string][] = [
  ['POST', /^\/clusters$/, 'CreateCluster'],
  ['GET', /^\/clusters$/, 'ListClusters'],
  ['GET', /^\/clusters\/[^/]+$/, 'DescribeCluster'],
  ['DELETE', /^\/clusters\/[^/]+$/, 'DeleteCluster'],
  ['POST', /^\/clusters\/[^/]+\/updates$/, 'UpdateClusterVersion'],
  ['POST', /^\/clusters\/[^/]+\/update-config$/, 'UpdateClusterConfig'],
  ['POST', /^\/clusters\/[^/]+\/node-groups$/, 'CreateNodegroup'],
  ['GET', /^\/clusters\/[^/]+\/node-groups$/, 'ListNodegroups'],
  ['GET', /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, 'DescribeNodegroup'],
  ['DELETE', /^\/clusters\/[^/]+\/node-groups\/[^/]+$/, 'DeleteNodegroup'],
  ['POST', /^\/clusters\/[^/]+\/node-groups\/[^/]+\/update-config$/, 'UpdateNodegroupConfig'],
  ['POST', /^\/clusters\/[^/]+\/node-groups\/[^/]+\/update-version$/, 'UpdateNodegroupVersion'],
  ['POST', /^\/tags\/.+$/, 'TagResource'],
  ['GET', /^\/tags\/.+$/, 'ListTagsForResource'],
];

export function nameRequest(
  method: string,
  url: string,
  headers: IncomingHttpHeaders,
  body: string,
): AwsRequestName {
  const service = serviceOf(headers);
  if (service === 'eks') {
    const path = url.split('?')[0] ?? '';
    const route = EKS_ROUTES.find(([m, re]) => m === method && re.test(path));
    return { service, action: route?.[2] ?? 'Unknown' };
  }
  // The query protocols: a form body with Action=...
  const action =
    new URLSearchParams(body).get('Action') ?? new URL(url, 'http://x').searchParams.get('Action');
  return { service, action: action ?? 'Unknown' };
}

export interface FaultAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const XML = { 'content-type': 'text/xml' };

/** The error answer of `kind` (never 'drop') in the protocol of `service`. */
export function errorAnswer(
  service: string,
  kind: Exclude<FaultKind, 'drop'>,
  requestId: string,
): FaultAnswer {
  if (service === 'eks') {
    const [status, type, message] =
      kind === 'throttle'
        ? [429, 'ThrottlingException', 'Rate exceeded']
        : kind === 'http500'
          ? [500, 'ServerException', 'An internal error occurred (injected)']
          : [503, 'ServiceUnavailableException', 'Service unavailable (injected)'];
    return {
      status,
      headers: {
        'content-type': 'application/json',
        'x-amzn-errortype': type,
        'x-amzn-requestid': requestId,
      },
      body: JSON.stringify({ message }),
    };
  }
  if (service === 'ec2') {
    const [status, code, message] =
      kind === 'throttle'
        ? [503, 'RequestLimitExceeded', 'Request limit exceeded.']
        : kind === 'http500'
          ? [500, 'InternalError', 'An internal error has occurred (injected)']
          : [503, 'Unavailable', 'The server is overloaded (injected)'];
    return {
      status,
      headers: XML,
      body: `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    };
  }
  const [status, type, code, message] =
    kind === 'throttle'
      ? [400, 'Sender', 'Throttling', 'Rate exceeded']
      : kind === 'http500'
        ? [500, 'Receiver', 'InternalFailure', 'An internal error occurred (injected)']
        : [503, 'Receiver', 'ServiceUnavailable', 'Service unavailable (injected)'];
  return {
    status,
    headers: XML,
    body: `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}
