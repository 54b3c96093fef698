// Decides, from the machines that exist, what a ControlPlane or MachineDeployment does next:
// create machines, delete some, or wait. Pure: no I/O, so every case has a unit test.

export interface MachineView {
  name: string;
  version: string;
  template: string;
  ready: boolean;
  deleting: boolean;
  /** RFC 3339; older machines go first on scale-down and rollout. */
  created: string;
}

export interface RolloutInput {
  replicas: number;
  version: string;
  template: string;
  machines: MachineView[];
  maxSurge: number;
  maxUnavailable: number;
  /**
   * A control plane changes one machine at a time and only when every machine is ready and none is
   * being deleted: etcd must never lose quorum.
   */
  oneAtATime: boolean;
}

export interface RolloutPlan {
  create: number;
  delete: string[];
  /** Why nothing is done now, for a condition message; empty when acting or at rest. */
  waiting: string;
  upToDate: number;
  outdated: number;
}

const byAge = (a: MachineView, b: MachineView) =>
  a.created.localeCompare(b.created) || a.name.localeCompare(b.name);

/** Not-ready first (they serve nothing), then oldest. */
const deletionOrder = (a: MachineView, b: MachineView) => Number(a.ready) - Number(b.ready) || byAge(a, b);

export function planRollout(input: RolloutInput): RolloutPlan {
  const live = input.machines.filter((m) => !m.deleting);
  const deleting = input.machines.length - live.length;
  const isCurrent = (m: MachineView) => m.version === input.version && m.template === input.template;
  const current = live.filter(isCurrent);
  const outdated = live.filter((m) => !isCurrent(m));
  const plan = (create: number, del: MachineView[], waiting = ''): RolloutPlan => ({
    create,
    delete: del.map((m) => m.name),
    waiting,
    upToDate: current.length,
    outdated: outdated.length,
  });

  if (input.oneAtATime) {
    if (deleting > 0) return plan(0, [], `waiting for ${deleting} machine(s) to be deleted`);
    // An outdated machine that never became ready serves nothing (say, a version with no binaries):
    // replace it rather than wait for it forever.
    const stuck = outdated.filter((m) => !m.ready).sort(byAge);
    if (stuck.length > 0) return plan(0, [stuck[0]!]);
    const notReady = live.filter((m) => !m.ready);
    if (notReady.length > 0)
      return plan(0, [], `waiting for ${notReady.map((m) => m.name).join(', ')} to be ready`);
    if (outdated.length > 0) {
      // Surge: add one current machine, then remove one outdated machine; never both in one step.
      if (live.length < input.replicas + input.maxSurge) return plan(1, []);
      return plan(0, [outdated.sort(byAge)[0]!]);
    }
    if (live.length < input.replicas) return plan(1, []);
    if (live.length > input.replicas) return plan(0, [live.sort(byAge)[0]!]);
    return plan(0, []);
  }

  // A worker pool: as many at once as maxSurge and maxUnavailable allow.
  if (outdated.length === 0) {
    if (live.length < input.replicas) return plan(input.replicas - live.length, []);
    if (live.length > input.replicas)
      return plan(0, live.sort(deletionOrder).slice(0, live.length - input.replicas));
    return plan(0, []);
  }
  // As a Deployment rolls: surge new machines up to replicas + maxSurge; remove outdated machines
  // that serve nothing at once, and ready ones only while replicas - maxUnavailable stay ready.
  const create = Math.max(
    0,
    Math.min(input.replicas - current.length, input.replicas + input.maxSurge - input.machines.length),
  );
  const minAvailable = Math.max(0, input.replicas - input.maxUnavailable);
  let mayLose = live.filter((m) => m.ready).length - minAvailable;
  const toDelete: MachineView[] = [];
  for (const m of outdated.sort(deletionOrder)) {
    if (!m.ready) toDelete.push(m);
    else if (mayLose > 0) {
      toDelete.push(m);
      mayLose--;
    }
  }
  const waiting = create === 0 && toDelete.length === 0 ? 'waiting for new machines to be ready' : '';
  return plan(create, toDelete, waiting);
}
