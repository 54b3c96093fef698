// AWS error codes in one place: what an error means for a reconcile.
// - `*.NotFound` (and the other "no such thing" codes) means the resource is absent;
// - throttling requeues with back-off;
// - a create whose answer was lost (lost-answers.ts) requeues soon: the next pass looks for what it made;
// - a denied action fails with the action named, so the reconcile stops hammering AWS with it;
// - a dependency that still exists requeues, naming what blocks;
// - a request AWS will never accept fails with AWS's own code and message;
// - a ProviderFailure (thrown by our own checks, for what asking again cannot fix) fails with its reason.
import { failed, inProgress, type Progress } from '../../src/provider/contract.js';

/** A problem AWS cannot fix by being asked again: reported as `failed` with its reason. */
export class ProviderFailure extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderFailure';
  }
}

export type AwsErrorKind =
  | 'notFound'
  | 'throttled'
  | 'denied'
  | 'invalidCredentials'
  | 'dependency'
  | 'duplicate'
  | 'quota'
  | 'invalidRequest'
  | 'answerLost'
  | 'transient';

export interface ClassifiedAwsError {
  kind: AwsErrorKind;
  /** AWS's error code (`InvalidVpcID.NotFound`), or the error's name when there is none. */
  code: string;
  message: string;
  /** The IAM action that was called (`ec2:RunInstances`), when known. */
  action?: string;
}

/** Codes that say "there is no such resource" without ending in `.NotFound`. */
const NOT_FOUND_CODES = new Set([
  'NotFound',
  'NatGatewayNotFound',
  'NatGatewayNotFoundException',
  'LoadBalancerNotFound',
  'LoadBalancerNotFoundException',
  'TargetGroupNotFound',
  'TargetGroupNotFoundException',
  'ListenerNotFound',
  'ListenerNotFoundException',
  'ResourceNotFoundException',
  'NoSuchEntity',
  'NoSuchEntityException',
]);

const THROTTLING_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
]);

const DENIED_CODES = new Set([
  'UnauthorizedOperation',
  'AccessDenied',
  'AccessDeniedException',
  'Forbidden',
  'OptInRequired',
]);

const CREDENTIAL_CODES = new Set([
  'AuthFailure',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);

const DEPENDENCY_CODES = new Set([
  'DependencyViolation',
  'ResourceInUse',
  'ResourceInUseException',
  'InvalidIPAddress.InUse',
  'IncorrectState',
  'IncorrectInstanceState',
  'InvalidState',
]);

const DUPLICATE_CODES = new Set([
  'InvalidPermission.Duplicate',
  'InvalidGroup.Duplicate',
  'DuplicateLoadBalancerName',
  'DuplicateLoadBalancerNameException',
  'DuplicateTargetGroupName',
  'DuplicateTargetGroupNameException',
  'DuplicateListener',
  'DuplicateListenerException',
  'ResourceAlreadyExists',
  'ResourceAlreadyExistsException',
  'Resource.AlreadyAssociated',
]);

/** The service prefix of IAM actions, by the SDK's service id. */
const IAM_PREFIX: Record<string, string> = {
  ec2: 'ec2',
  'elastic load balancing v2': 'elasticloadbalancing',
  eks: 'eks',
  sts: 'sts',
  iam: 'iam',
};

export function iamPrefixOf(serviceId: string): string {
  return IAM_PREFIX[serviceId.toLowerCase()] ?? serviceId.toLowerCase().replace(/\s+/g, '');
}

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  /** Set by the clients of aws-common/clients.ts: the IAM action of the failed call. */
  $operation?: string;
}

export function awsErrorCode(err: unknown): string {
  if (!err || typeof err !== 'object') return String(err);
  const e = err as AwsLikeError;
  return e.Code ?? e.code ?? e.name ?? 'Error';
}

const MAX_MESSAGE = 600;

/** AWS messages can be long (an encoded authorization message); they never hold our secrets. */
function shortMessage(message: string | undefined): string {
  const text = (message ?? '').replace(/\s+/g, ' ').trim();
  const cut = text.replace(
    /Encoded authorization failure message: \S+/i,
    '(encoded authorization message left out)',
  );
  return cut.length > MAX_MESSAGE ? `${cut.slice(0, MAX_MESSAGE)}...` : cut;
}

/** What an error from an AWS SDK call means. */
export function classifyAwsError(err: unknown): ClassifiedAwsError {
  const e = (err && typeof err === 'object' ? err : {}) as AwsLikeError;
  const code = awsErrorCode(err);
  const message = shortMessage(e.message ?? String(err));
  const base = { code, message, ...(e.$operation ? { action: e.$operation } : {}) };
  if (code.endsWith('.NotFound') || code.endsWith('.Malformed.NotFound') || NOT_FOUND_CODES.has(code)) {
    return { kind: 'notFound', ...base };
  }
  if (code === 'AnswerLost') return { kind: 'answerLost', ...base };
  if (THROTTLING_CODES.has(code) || code.startsWith('Throttling') || e.$retryable?.throttling) {
    return { kind: 'throttled', ...base };
  }
  if (DENIED_CODES.has(code)) {
    const named = /not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)/i.exec(e.message ?? '')?.[1];
    return { kind: 'denied', ...base, ...(named || e.$operation ? { action: named ?? e.$operation } : {}) };
  }
  if (CREDENTIAL_CODES.has(code)) return { kind: 'invalidCredentials', ...base };
  if (DEPENDENCY_CODES.has(code)) return { kind: 'dependency', ...base };
  if (DUPLICATE_CODES.has(code) || code.endsWith('.Duplicate')) return { kind: 'duplicate', ...base };
  if (
    code.endsWith('LimitExceeded') ||
    code.endsWith('LimitExceededException') ||
    code === 'InsufficientInstanceCapacity'
  ) {
    return { kind: 'quota', ...base };
  }
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault === 'client' || (status !== undefined && status >= 400 && status < 500)) {
    return { kind: 'invalidRequest', ...base };
  }
  // 5xx, timeouts, connection resets, anything unknown: worth another try later.
  return { kind: 'transient', ...base };
}

const LOST_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);
const LOST_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);

/**
 * Whether the request may have been acted on although no answer says so: a 5xx, a reset connection,
 * a timeout. Not a throttle (EC2 throttles with HTTP 503): AWS refused it, nothing was made.
 */
export function answerWasLost(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  if (classifyAwsError(err).kind === 'throttled') return false;
  const e = err as AwsLikeError;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return LOST_CODES.has(e.code ?? '') || (status === undefined && LOST_NAMES.has(e.name ?? ''));
}

export const isNotFound = (err: unknown): boolean => classifyAwsError(err).kind === 'notFound';

/** Resolves to undefined when the call says the resource does not exist. */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Resolves when the call succeeds or fails with one of `codes`, answers that say the wanted state
 * already holds (a retried detach: `Gateway.NotAttached`); any other error is thrown.
 */
export async function alreadySo(call: Promise<unknown>, ...codes: string[]): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (!codes.includes(awsErrorCode(err))) throw err;
  }
}

/** Back-off for throttling: 15 to 30 s, jittered so that many clusters do not retry in step. */
export function throttleDelayMs(random = Math.random): number {
  return 15_000 + Math.floor(random() * 15_000);
}

/**
 * The Progress a reconcile reports for an error of an AWS call made while `doing` something
 * ("creating the VPC"). Never `done`.
 */
export function progressFromAwsError(err: unknown, doing: string, random = Math.random): Progress {
  const c = classifyAwsError(err);
  switch (c.kind) {
    case 'throttled':
      return inProgress(
        `AWS throttled the request while ${doing} (${c.code}); backing off`,
        throttleDelayMs(random),
        'Throttled',
      );
    case 'answerLost':
      return inProgress(
        `${doing}: ${c.message}; looking for what it made before asking again`,
        2_000,
        'AnswerLost',
      );
    case 'denied':
      return failed(
        'AccessDenied',
        `${c.action ? `not allowed to call ${c.action}` : 'access denied'} while ${doing}: ${c.code}: ${c.message}`,
      );
    case 'invalidCredentials':
      return failed(
        'InvalidCredentials',
        `AWS rejected the credentials while ${doing}: ${c.code}: ${c.message}`,
      );
    case 'dependency':
      return inProgress(`${doing}: blocked by a dependency: ${c.code}: ${c.message}`, 10_000);
    case 'notFound':
      // Eventual consistency: a resource made a moment ago may not be visible yet.
      return inProgress(`${doing}: ${c.code}: ${c.message}`, 5_000);
    case 'duplicate':
      // Another reconcile (or a retried request) made it first; look again.
      return inProgress(`${doing}: ${c.code}: ${c.message}`, 2_000);
    case 'quota':
      return failed('QuotaExceeded', `${doing}: ${c.code}: ${c.message}`);
    case 'invalidRequest':
      return failed(
        c.code.replace(/[^A-Za-z0-9]/g, '') || 'InvalidRequest',
        `${doing}: ${c.code}: ${c.message}`,
      );
    default:
      return inProgress(
        `${doing}: ${c.code}: ${c.message}; retrying`,
        10_000,
        answerWasLost(err) ? 'ServiceUnavailable' : undefined,
      );
  }
}

/**
 * The Progress a provider step reports for what it threw while `doing` something: a ProviderFailure
 * fails with its own reason, anything else is read as an AWS error (progressFromAwsError).
 */
export function progressFromError(err: unknown, doing: string): Progress {
  if (err instanceof ProviderFailure) return failed(err.reason, err.message);
  return progressFromAwsError(err, doing);
}
