// The one place AWS errors get their meaning, fed with the SDK's own exception classes.
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  DuplicateLoadBalancerNameException,
  LoadBalancerNotFoundException,
  ResourceInUseException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import {
  classifyAwsError,
  isNotFound,
  ProviderFailure,
  progressFromAwsError,
  progressFromError,
  throttleDelayMs,
  unlessNotFound,
} from '../../../providers/aws-common/errors.js';

const ec2Error = (code: string, message: string, status = 400, operation?: string) => {
  const err = new EC2ServiceException({
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message,
  });
  Object.assign(err, { Code: code });
  if (operation) Object.defineProperty(err, '$operation', { value: operation, enumerable: false });
  return err;
};
const meta = { $metadata: { httpStatusCode: 400 }, message: 'x' };

describe('classifyAwsError', () => {
  it('takes every *.NotFound, and the services’ own not-found exceptions, as absent', () => {
    for (const code of [
      'InvalidVpcID.NotFound',
      'InvalidSubnetID.NotFound',
      'InvalidGroup.NotFound',
      'InvalidInternetGatewayID.NotFound',
      'InvalidAllocationID.NotFound',
      'InvalidRouteTableID.NotFound',
      'InvalidInstanceID.NotFound',
      'InvalidAssociationID.NotFound',
      'NatGatewayNotFound',
    ]) {
      expect(classifyAwsError(ec2Error(code, 'gone')).kind, code).toBe('notFound');
    }
    expect(isNotFound(new LoadBalancerNotFoundException(meta))).toBe(true);
    expect(isNotFound(new TargetGroupNotFoundException(meta))).toBe(true);
    expect(isNotFound(ec2Error('InvalidParameterValue', 'bad'))).toBe(false);
  });

  it('backs off on throttling, jittered between 15 and 30 seconds', () => {
    for (const code of [
      'RequestLimitExceeded',
      'Throttling',
      'ThrottlingException',
      'TooManyRequestsException',
    ]) {
      expect(classifyAwsError(ec2Error(code, 'slow down')).kind, code).toBe('throttled');
    }
    const progress = progressFromAwsError(
      ec2Error('RequestLimitExceeded', 'Request limit exceeded.'),
      'creating the VPC',
      () => 0.5,
    );
    expect(progress).toEqual({
      state: 'inProgress',
      requeueAfterMs: 22_500,
      message: 'AWS throttled the request while creating the VPC (RequestLimitExceeded); backing off',
      reason: 'Throttled',
    });
    expect(throttleDelayMs(() => 0)).toBe(15_000);
    expect(throttleDelayMs(() => 0.9999)).toBeLessThan(30_000);
  });

  it('fails on a denied action and names the action, without the encoded authorization message', () => {
    const denied = ec2Error(
      'UnauthorizedOperation',
      'You are not authorized to perform this operation. User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:123456789012:instance/* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: AbCdEf0123456789SECRETISH',
      403,
    );
    expect(classifyAwsError(denied)).toMatchObject({ kind: 'denied', action: 'ec2:RunInstances' });
    const progress = progressFromAwsError(denied, 'ensuring the instance of machine cp-1');
    expect(progress).toMatchObject({ state: 'failed', reason: 'AccessDenied' });
    expect(progress.state === 'failed' && progress.message).toMatch(
      /^not allowed to call ec2:RunInstances while ensuring the instance of machine cp-1: UnauthorizedOperation: /,
    );
    expect(JSON.stringify(progress)).not.toContain('AbCdEf0123456789');

    // elbv2's AccessDenied does not name the action: the client marks the call with it.
    const elb = ec2Error(
      'AccessDenied',
      'User is not authorized.',
      403,
      'elasticloadbalancing:CreateLoadBalancer',
    );
    expect(classifyAwsError(elb)).toMatchObject({
      kind: 'denied',
      action: 'elasticloadbalancing:CreateLoadBalancer',
    });
  });

  it('fails on credentials AWS does not accept', () => {
    expect(
      progressFromAwsError(
        ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401),
        'x',
      ),
    ).toMatchObject({
      state: 'failed',
      reason: 'InvalidCredentials',
    });
  });

  it('requeues on a dependency that still exists, and names it', () => {
    const progress = progressFromAwsError(
      ec2Error('DependencyViolation', "The subnet 'subnet-1' has dependencies and cannot be deleted."),
      'deleting subnets',
    );
    expect(progress).toMatchObject({ state: 'inProgress', requeueAfterMs: 10_000 });
    expect(progress.state === 'inProgress' && progress.message).toContain("subnet 'subnet-1'");
    expect(classifyAwsError(new ResourceInUseException(meta)).kind).toBe('dependency');
  });

  it('treats a duplicate as "look again", a quota as failed, a bad request as failed with its code', () => {
    expect(classifyAwsError(ec2Error('InvalidPermission.Duplicate', 'exists')).kind).toBe('duplicate');
    expect(classifyAwsError(new DuplicateLoadBalancerNameException(meta)).kind).toBe('duplicate');
    expect(
      progressFromAwsError(ec2Error('VpcLimitExceeded', 'too many VPCs'), 'creating the VPC'),
    ).toMatchObject({
      state: 'failed',
      reason: 'QuotaExceeded',
    });
    expect(
      progressFromAwsError(ec2Error('InvalidSubnet.Conflict', 'overlaps'), 'creating subnets'),
    ).toMatchObject({
      state: 'failed',
      reason: 'InvalidSubnetConflict',
      message: 'creating subnets: InvalidSubnet.Conflict: overlaps',
    });
  });

  it('retries server errors and anything that is not an AWS answer', () => {
    // A 5xx is a condition reason of its own while the reconcile backs off, never a failure.
    expect(progressFromAwsError(ec2Error('InternalError', 'oops', 500), 'x')).toMatchObject({
      state: 'inProgress',
      reason: 'ServiceUnavailable',
    });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(classifyAwsError(refused).kind).toBe('transient');
    expect(progressFromAwsError(refused, 'x')).toMatchObject({ state: 'inProgress', requeueAfterMs: 10_000 });
  });

  it('unlessNotFound turns absent into undefined and lets everything else through', async () => {
    expect(await unlessNotFound(Promise.reject(ec2Error('InvalidVpcID.NotFound', 'gone')))).toBeUndefined();
    expect(await unlessNotFound(Promise.resolve(7))).toBe(7);
    await expect(
      unlessNotFound(Promise.reject(ec2Error('UnauthorizedOperation', 'no', 403))),
    ).rejects.toThrow('no');
  });

  it('progressFromError fails a ProviderFailure with its own reason and reads anything else as an AWS error', () => {
    expect(
      progressFromError(new ProviderFailure('NoSubnets', 'the cluster has no subnet'), 'ensuring x'),
    ).toMatchObject({ state: 'failed', reason: 'NoSubnets', message: 'the cluster has no subnet' });
    const throttled = ec2Error('RequestLimitExceeded', 'slow down');
    expect(progressFromError(throttled, 'creating the VPC')).toMatchObject({
      state: 'inProgress',
      message: expect.stringContaining('AWS throttled the request while creating the VPC'),
    });
  });
});
