// The `err` of a log line: message and code, no stack, for an expected failure; the whole stack for a bug.
import { connect } from 'node:net';
import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeApiError, TerminalError, TransientError } from '../../../src/runtime/errors.js';
import { createLogger } from '../../../src/runtime/log.js';
import { isUnreachableError, serializeError } from '../../../src/runtime/log-errors.js';

/** Logs `err` through the operator's logger and returns the line's `err`. */
function logged(err: unknown): Record<string, unknown> {
  const lines: string[] = [];
  const log = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
  log.child({ controller: 'cluster' }).warn({ err }, 'failed');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string).err;
}

/** A real ECONNREFUSED from Node: connect to a port nothing listens on (port 1 on loopback). */
function refused(): Promise<Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 1 });
    socket.on('error', resolve);
  });
}

describe('the err of a log line', () => {
  it('logs a refused connection by message and code, without a stack', async () => {
    const err = await refused();
    expect(logged(err)).toEqual({
      type: 'Error',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
      code: 'ECONNREFUSED',
    });
  });

  it('logs an API server answer by message, HTTP code and reason, without a stack', () => {
    const err = new KubeApiError(
      503,
      'list',
      '/api/v1/configmaps',
      'the server is shutting down',
      'ServiceUnavailable',
    );
    expect(logged(err)).toEqual({
      type: 'KubeApiError',
      message: 'list /api/v1/configmaps: 503 ServiceUnavailable: the server is shutting down',
      code: 503,
      reason: 'ServiceUnavailable',
    });
    const clientNode = logged(new ApiException(409, 'conflict', '{}', {}));
    expect(clientNode).toMatchObject({ type: 'ApiException', code: 409 });
    expect(clientNode).not.toHaveProperty('stack');
  });

  it('logs a timeout and the failures a reconciler throws on purpose without a stack, with their causes', () => {
    const timeout = logged(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    expect(timeout).toEqual({
      type: 'DOMException',
      message: 'The operation was aborted due to timeout',
      code: 23,
    });
    const cause = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT' });
    const err = logged(new TransientError('waiting for the API server', { cause }));
    expect(err).toEqual({
      type: 'TransientError',
      message: 'waiting for the API server',
      cause: { type: 'Error', message: 'connect ETIMEDOUT 10.0.0.1:443', code: 'ETIMEDOUT' },
    });
    expect(logged(new TerminalError('InvalidSpec', 'spec.version is not a version'))).toEqual({
      type: 'TerminalError',
      message: 'spec.version is not a version',
      reason: 'InvalidSpec',
    });
  });

  it('keeps the stack of a programming error, also under an expected one', () => {
    let bug: unknown;
    try {
      (undefined as unknown as { spec: string }).spec;
    } catch (err) {
      bug = err;
    }
    const err = logged(bug);
    expect(err).toMatchObject({ type: 'TypeError' });
    expect(err.stack).toMatch(/TypeError: .*\n\s+at /);
    const wrapped = logged(new TransientError('reconcile', { cause: bug }));
    expect(wrapped).not.toHaveProperty('stack');
    expect((wrapped.cause as { stack?: string }).stack).toMatch(/TypeError/);
  });

  it('leaves what is not an Error as it is', () => {
    expect(serializeError('a string')).toBe('a string');
    expect(serializeError({ code: 'ECONNREFUSED' })).toEqual({ code: 'ECONNREFUSED' });
  });

  it('tells an unreachable or overloaded API server from a failure of one object', async () => {
    expect(isUnreachableError(await refused())).toBe(true);
    expect(isUnreachableError(new KubeApiError(429, 'get', '/x', 'slow down'))).toBe(true);
    expect(isUnreachableError(new KubeApiError(500, 'get', '/x', 'etcdserver: request timed out'))).toBe(
      true,
    );
    expect(
      isUnreachableError(new TransientError('retry', { cause: new KubeApiError(503, 'get', '/x', '') })),
    ).toBe(true);
    expect(isUnreachableError(new KubeApiError(404, 'get', '/x', 'not found'))).toBe(false);
    expect(isUnreachableError(new TransientError('machine not ready'))).toBe(false);
    expect(isUnreachableError(new TypeError('x is undefined'))).toBe(false);
  });
});
