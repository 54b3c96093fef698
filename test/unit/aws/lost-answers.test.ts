// A create whose answer is lost is given back to the reconcile at once (AnswerLost), never sent again
// blindly by the SDK; reads are retried by the SDK as before, and so is a create that AWS throttled
// (refused, nothing made). The SDK's own clients, with a request handler in place of the network.
import { DescribeVpcsCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  answerWasLost,
  classifyAwsError,
  progressFromAwsError,
} from '../../../providers/aws-common/errors.js';
import { AnswerLost, noBlindRetryOfCreates } from '../../../providers/aws-common/lost-answers.js';

type Answer = 'reset' | 'throttle' | 'http500' | 'ok';

/** An EC2 client whose every request gets the next of `answers` (the last one repeats). */
function clientAnswering(answers: Answer[]): { ec2: EC2Client; sent: () => number } {
  let sent = 0;
  const xml = (status: number, body: string) => ({
    response: {
      statusCode: status,
      headers: { 'content-type': 'text/xml' },
      body: new TextEncoder().encode(body),
    },
  });
  const error = (code: string) =>
    `<Response><Errors><Error><Code>${code}</Code><Message>m</Message></Error></Errors><RequestID>r</RequestID></Response>`;
  const ec2 = new EC2Client({
    region: 'us-east-1',
    maxAttempts: 3,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    requestHandler: {
      handle: async () => {
        const answer = answers[Math.min(sent++, answers.length - 1)];
        if (answer === 'reset') throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        if (answer === 'throttle') return xml(503, error('RequestLimitExceeded'));
        if (answer === 'http500') return xml(500, error('InternalError'));
        return xml(200, '<DescribeVpcsResponse><vpcSet/></DescribeVpcsResponse>');
      },
    } as never,
  });
  noBlindRetryOfCreates(ec2 as never);
  return { ec2, sent: () => sent };
}

const run = new RunInstancesCommand({ ImageId: 'ami-1', MinCount: 1, MaxCount: 1 });

describe('a lost answer to a create', () => {
  it('reaches the caller as AnswerLost after one request, for a reset connection and for a 500', async () => {
    for (const answer of ['reset', 'http500'] as const) {
      const { ec2, sent } = clientAnswering([answer]);
      const err = await ec2.send(run).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AnswerLost);
      expect(sent()).toBe(1);
      expect(classifyAwsError(err).kind).toBe('answerLost');
      expect(progressFromAwsError(err, 'ensuring the instance')).toMatchObject({ state: 'inProgress' });
    }
  });

  it('leaves a throttled create and a lost read to the SDK’s retries', async () => {
    const throttled = clientAnswering(['throttle', 'reset', 'reset']);
    expect(await throttled.ec2.send(run).catch((e: unknown) => e)).toBeInstanceOf(AnswerLost);
    expect(throttled.sent()).toBe(2);
    const read = clientAnswering(['reset', 'http500', 'ok']);
    await read.ec2.send(new DescribeVpcsCommand({}));
    expect(read.sent()).toBe(3);
  });

  it('is told apart from refusals: throttling and 4xx answers were not acted on', () => {
    expect(answerWasLost({ name: 'RequestLimitExceeded', $metadata: { httpStatusCode: 503 } })).toBe(false);
    expect(answerWasLost({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } })).toBe(false);
    expect(answerWasLost({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(answerWasLost({ name: 'TimeoutError', code: 'ECONNRESET' })).toBe(true);
  });
});
