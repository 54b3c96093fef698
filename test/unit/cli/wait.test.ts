// The pure core of every wait in the CLI: the rollout of a Deployment as `kubectl rollout status` reads
// it, the hints from its pods, and the poll loop with its timeout (exit code 4).
import { describe, expect, it } from 'vitest';
import { CliError, ExitCode } from '../../../src/cli/common.js';
import { type DeploymentLike, podHints, pollUntil, rolloutStep, type Step } from '../../../src/cli/wait.js';

const deployment = (status: DeploymentLike['status'], generation = 1, replicas = 1): DeploymentLike => ({
  metadata: { name: 'op', generation },
  spec: { replicas },
  ...(status ? { status } : {}),
});

describe('rolloutStep', () => {
  it('waits while the Deployment controller has not looked (no kube-controller-manager)', () => {
    expect(rolloutStep(deployment(undefined))).toMatchObject({
      state: 'waiting',
      message: expect.stringContaining('no status yet'),
    });
  });
  it('waits for a new spec to be observed', () => {
    expect(rolloutStep(deployment({ observedGeneration: 1 }, 2))).toMatchObject({
      state: 'waiting',
      message: expect.stringContaining('new spec'),
    });
  });
  it('follows the replicas: updated, then old ones gone, then available', () => {
    expect(
      rolloutStep(deployment({ observedGeneration: 1, replicas: 1, updatedReplicas: 0 }, 1, 2)).state,
    ).toBe('waiting');
    expect(
      rolloutStep(deployment({ observedGeneration: 1, replicas: 3, updatedReplicas: 2 }, 1, 2)),
    ).toMatchObject({ message: '1 old replica(s) pending termination' });
    expect(
      rolloutStep(
        deployment({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 }, 1, 2),
      ),
    ).toMatchObject({ message: '1 of 2 updated replicas available' });
    expect(
      rolloutStep(
        deployment({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 1, 2),
      ).state,
    ).toBe('done');
  });
  it('fails for good when the progress deadline is exceeded', () => {
    const step = rolloutStep(
      deployment({
        observedGeneration: 1,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "op-1" has timed out progressing.',
          },
        ],
      }),
    );
    expect(step).toMatchObject({
      state: 'failed',
      message: expect.stringContaining('timed out progressing'),
    });
  });
});

describe('podHints', () => {
  it('names pods stuck pulling or crashing, and unschedulable ones; nothing for healthy pods', () => {
    expect(
      podHints([
        {
          metadata: { name: 'a' },
          status: {
            containerStatuses: [
              {
                name: 'operator',
                state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image' } },
              },
            ],
          },
        },
        {
          metadata: { name: 'b' },
          status: {
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: '0/1 nodes are available',
              },
            ],
          },
        },
        {
          metadata: { name: 'c' },
          status: {
            containerStatuses: [{ name: 'operator', state: { waiting: { reason: 'ContainerCreating' } } }],
          },
        },
      ]),
    ).toEqual([
      'pod a: ImagePullBackOff (Back-off pulling image)',
      'pod b cannot be scheduled: 0/1 nodes are available',
    ]);
  });
});

describe('pollUntil', () => {
  /** A fake clock: sleep advances it. */
  const clock = () => {
    let t = 0;
    return {
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
    };
  };

  it('reports each step and returns the value once done', async () => {
    const steps: Step<string>[] = [
      { state: 'waiting', message: 'one' },
      { state: 'waiting', message: 'two' },
      { state: 'done', value: 'v', message: 'ok' },
    ];
    const seen: string[] = [];
    const c = clock();
    const value = await pollUntil({
      what: 'x',
      check: async () => steps.shift()!,
      timeoutMs: 10_000,
      onStep: (m) => seen.push(m),
      ...c,
    });
    expect(value).toBe('v');
    expect(seen).toEqual(['one', 'two']);
    expect(c.now()).toBe(2000);
  });

  it('times out with exit code 4, the last state and the fix', async () => {
    const err = await pollUntil({
      what: 'the operator',
      check: async () => ({ state: 'waiting', message: 'still' }),
      timeoutMs: 5000,
      timeoutFix: 'try --wait=false',
      ...clock(),
    }).catch((e) => e);
    expect(err).toBeInstanceOf(CliError);
    expect(err).toMatchObject({
      exitCode: ExitCode.timeout,
      fix: 'try --wait=false',
      message: 'timed out after 5s waiting for the operator; last: still',
    });
  });

  it('stops at a failed step with exit code 1', async () => {
    const err = await pollUntil({
      what: 'x',
      check: async () => ({ state: 'failed', message: 'broken', fix: 'mend it' }),
      timeoutMs: 5000,
      ...clock(),
    }).catch((e) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.failure, message: 'broken', fix: 'mend it' });
  });
});
