// The local lifecycle the crash runs drive (create, scale, delete; simulated workers, so that a step
// takes seconds) and its audit: exactly one process per Machine and role, found by command line as
// `ps` would, one load balancer per cluster, and nothing at all once the Cluster is deleted.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { renderTemplate } from '../../../src/templates/render.js';
import { listObjects } from '../operator.js';
import { processesMentioning } from '../procs.js';
import type { Lifecycle } from './driver.js';
import { type ClusterRef, clusterSteps } from './steps.js';

const CONTROL_PLANE_ROLES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];

/** What a process of the cluster is, from its command line: its role and its machine (if any). */
function classify(cmdline: string): { role: string; machine?: string } {
  const [exe = '', script = ''] = cmdline.split(' ');
  const machine = /\/machines\/([^/ ]+)\//.exec(cmdline)?.[1];
  const program = basename(exe) === 'node' || exe === process.execPath ? basename(script) : basename(exe);
  const role =
    program === 'heartbeat-process.mjs'
      ? 'heartbeat'
      : program === 'lb-process.mjs'
        ? 'load-balancer'
        : program;
  return machine ? { role, machine } : { role };
}

export function localLifecycle(
  opts: ClusterRef & {
    stateDir: string;
    /** Control-plane machines after the scale step (from 1). Default 3. */
    controlPlanes?: number;
  },
): Lifecycle {
  const { kc, namespace, name } = opts;
  const clusterDir = join(opts.stateDir, 'local', namespace, name);
  const { kubectl, converging, deleting } = clusterSteps(opts);
  return {
    steps: [
      converging('create', async () => {
        const template = await readFile('templates/local/cluster-template.yaml', 'utf8');
        const vars = { CLUSTER_NAME: name, NAMESPACE: namespace, LOCAL_WORKER: 'Simulated' };
        await kubectl(['apply', '-f', '-'], renderTemplate(template, { ...vars, WORKER_MACHINE_COUNT: '1' }));
      }),
      converging('scale', async () => {
        await kubectl([
          'scale',
          `controlplane/${name}-control-plane`,
          `--replicas=${opts.controlPlanes ?? 3}`,
        ]);
        await kubectl(['scale', `machinedeployment/${name}-workers`, '--replicas=2']);
      }),
      deleting(),
    ],
    async audit(step) {
      const problems: string[] = [];
      const procs = await processesMentioning(clusterDir);
      if (step === 'delete') {
        for (const p of procs)
          problems.push(`left running after delete: ${p.pid} ${p.cmdline.slice(0, 160)}`);
        if (existsSync(clusterDir)) problems.push(`state folder left after delete: ${clusterDir}`);
        return problems;
      }
      const counts = new Map<string, number>();
      for (const p of procs) {
        const { role, machine } = classify(p.cmdline);
        const key = `${machine ?? '(cluster)'} ${role}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const expected = new Map<string, number>([['(cluster) load-balancer', 1]]);
      const machines = (await listObjects(kc, 'machines', namespace)).filter(
        (m) => m.spec.clusterName === name,
      );
      for (const m of machines) {
        const roles = m.spec.role === 'ControlPlane' ? CONTROL_PLANE_ROLES : ['heartbeat'];
        for (const role of roles) expected.set(`${m.metadata.name} ${role}`, 1);
      }
      for (const key of new Set([...expected.keys(), ...counts.keys()])) {
        const [want, got] = [expected.get(key) ?? 0, counts.get(key) ?? 0];
        if (want !== got) problems.push(`${key}: ${got} processes, want ${want}`);
      }
      return problems;
    },
  };
}
