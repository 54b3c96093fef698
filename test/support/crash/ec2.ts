// The aws-ec2 lifecycle the crash runs drive against the AWS emulator (create, scale the workers up,
// delete) and its audit: every instance ever made for the cluster (terminated ones included) is
// counted per Machine tag, so a second RunInstances for one Machine shows even after it was cleaned
// up; after the delete nothing tagged for the cluster is left.
import { readFile } from 'node:fs/promises';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { clusterTagKey } from '../../../providers/aws-common/tags.js';
import { renderTemplate } from '../../../src/templates/render.js';
import { ownedInventory } from '../../integration/aws/fixtures.js';
import { listObjects } from '../operator.js';
import type { Lifecycle } from './driver.js';
import { type ClusterRef, clusterSteps } from './steps.js';

const MACHINE_TAG = 'clusterforge.dev/machine';

/** Every instance tagged for the cluster, whatever its state, by its Machine tag. */
async function instancesByMachine(tagKey: string): Promise<Map<string, { id: string; state: string }[]>> {
  const ec2 = new EC2Client({ region: process.env.AWS_REGION ?? 'us-east-1' });
  try {
    const out = await ec2.send(new DescribeInstancesCommand({}));
    const byMachine = new Map<string, { id: string; state: string }[]>();
    for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
      const tags = new Map((i.Tags ?? []).map((t) => [t.Key, t.Value]));
      if (tags.get(tagKey) !== 'owned') continue;
      const machine = tags.get(MACHINE_TAG) ?? '(no machine tag)';
      byMachine.set(machine, [
        ...(byMachine.get(machine) ?? []),
        { id: i.InstanceId ?? '', state: i.State?.Name ?? '' },
      ]);
    }
    return byMachine;
  } finally {
    ec2.destroy();
  }
}

export function ec2Lifecycle(
  opts: ClusterRef & {
    version: string;
  },
): Lifecycle {
  const { kc, namespace, name } = opts;
  const tagKey = clusterTagKey({ namespace, name });
  const { kubectl, converging, deleting } = clusterSteps(opts);
  return {
    steps: [
      converging('create', async () => {
        const template = await readFile('templates/aws-ec2/cluster-template.yaml', 'utf8');
        const vars = {
          CLUSTER_NAME: name,
          NAMESPACE: namespace,
          AWS_AZ_COUNT: '2',
          CONTROL_PLANE_MACHINE_COUNT: '1',
          WORKER_MACHINE_COUNT: '1',
          KUBERNETES_VERSION: opts.version,
        };
        await kubectl(['apply', '-f', '-'], renderTemplate(template, vars));
      }),
      converging('scale', () => kubectl(['scale', `machinedeployment/${name}-workers`, '--replicas=2'])),
      deleting(),
    ],
    async audit(step) {
      const problems: string[] = [];
      const byMachine = await instancesByMachine(tagKey);
      // One instance per Machine, ever: a second one, even terminated since, was a duplicate create.
      for (const [machine, instances] of byMachine) {
        if (instances.length > 1) {
          problems.push(
            `${machine}: ${instances.length} instances ${instances.map((i) => `${i.id}=${i.state}`).join(' ')}`,
          );
        }
      }
      if (step === 'delete') {
        const left = Object.entries(await ownedInventory(tagKey)).filter(([, ids]) => ids.length > 0);
        for (const [kind, ids] of left) problems.push(`left after delete: ${kind} ${ids.join(' ')}`);
        return problems;
      }
      const machines = (await listObjects(kc, 'machines', namespace)).filter(
        (m) => m.spec.clusterName === name,
      );
      const live = new Set(machines.map((m) => m.metadata.name as string));
      for (const m of live) {
        const running = (byMachine.get(m) ?? []).filter((i) => i.state !== 'terminated');
        if (running.length !== 1) problems.push(`${m}: ${running.length} live instances, want 1`);
      }
      for (const [machine, instances] of byMachine) {
        if (!live.has(machine) && instances.some((i) => i.state !== 'terminated'))
          problems.push(`orphan instance of ${machine} (no such Machine)`);
      }
      return problems;
    },
  };
}
