// The tree `clusterforge describe cluster` prints: Cluster -> ControlPlane -> its Machines, and each
// MachineDeployment -> its Machines, one line per object (or per group of Machines in the same state)
// with Ready, phase, reason, age and message. Pure: objects in, lines out.
import { CONTROL_PLANE_NAME_LABEL, DEPLOYMENT_NAME_LABEL } from '../api/v1alpha1/labels.js';
import { age } from './common.js';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface Obj {
  kind?: string;
  metadata: {
    name?: string;
    labels?: Record<string, string>;
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  spec?: {
    replicas?: number;
    version?: string;
    clusterName?: string;
    controlPlaneRef?: { name: string };
  };
  status?: {
    phase?: string;
    conditions?: Condition[];
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    version?: string;
    observedGeneration?: number;
  };
}

export interface ClusterObjects {
  cluster: Obj;
  controlPlane?: Obj;
  deployments: Obj[];
  machines: Obj[];
}

export type Tone = 'ok' | 'progress' | 'bad' | 'unknown' | 'plain';

export interface Row {
  /** Tree drawing before the name: '├─', '│ └─', ... */
  prefix: string;
  name: string;
  ready: string;
  phase: string;
  reason: string;
  age: string;
  message: string;
  tone: Tone;
  /** A condition line (drawn under its object, dimmer). */
  condition?: boolean;
}

export interface TreeOptions {
  /** Kinds whose conditions are listed under each object ('Cluster', 'Machine', ...); empty: none. */
  showConditions: Set<string>;
  /** Machines in the same state on one line. Default true; never for kinds whose conditions are shown. */
  grouping: boolean;
  now?: number;
}

const readyOf = (o: Obj): Condition | undefined => o.status?.conditions?.find((c) => c.type === 'Ready');

function toneOf(o: Obj, ready: Condition | undefined): Tone {
  if (o.status?.phase === 'Failed' || /Failed$/.test(ready?.reason ?? '')) return 'bad';
  if (!ready) return 'unknown';
  if (ready.status === 'True') return 'ok';
  if (ready.status === 'False') return 'progress';
  return 'unknown';
}

function replicasText(o: Obj): string {
  const want = o.spec?.replicas;
  const s = o.status ?? {};
  const parts: string[] = [];
  if (want !== undefined) {
    parts.push(`${s.readyReplicas ?? 0}/${want} ready`);
    if ((s.updatedReplicas ?? want) !== want) parts.push(`${s.updatedReplicas ?? 0} up to date`);
    if ((s.replicas ?? 0) > want) parts.push(`${(s.replicas ?? 0) - want} to delete`);
  }
  const version = s.version ?? o.spec?.version;
  if (version) parts.push(version);
  return parts.join(', ');
}

function phaseOf(o: Obj, kind: string): string {
  if (o.status?.phase) return o.status.phase;
  if (o.metadata.deletionTimestamp) return 'Deleting';
  // A Machine the operator has not looked at yet: its status is the API server's default, with
  // observedGeneration 0 (docs/gitops/health.md), or absent where the CRD predates that default.
  if (kind === 'Machine' && !o.status?.observedGeneration) return 'Pending';
  return '';
}

const POOLS = new Set(['ControlPlane', 'MachineDeployment']);

function objectRow(o: Obj, kind: string, now: number): Row {
  const ready = readyOf(o);
  const counts = POOLS.has(kind) ? replicasText(o) : '';
  return {
    prefix: '',
    name: `${kind}/${o.metadata.name ?? ''}`,
    ready: ready?.status ?? '',
    phase: phaseOf(o, kind),
    reason: ready && ready.status !== 'True' ? (ready.reason ?? '') : '',
    age: age(o.metadata.creationTimestamp, now),
    message: ready?.status === 'True' ? counts : ready?.message || counts,
    tone: toneOf(o, ready),
  };
}

function conditionRows(o: Obj, now: number): Row[] {
  return (o.status?.conditions ?? []).map((c) => ({
    prefix: '',
    name: `${c.type}`,
    ready: c.status,
    phase: '',
    reason: c.reason ?? '',
    age: age(c.lastTransitionTime, now),
    message: c.message ?? '',
    tone: (c.status === 'True' ? 'ok' : c.status === 'False' ? 'progress' : 'unknown') as Tone,
    condition: true,
  }));
}

interface Node {
  row: Row;
  children: Node[];
}

const byName = (a: Obj, b: Obj) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/** Machines as nodes: one per machine, or one per group of machines in the same state. */
function machineNodes(machines: Obj[], opts: TreeOptions, now: number): Node[] {
  const showConditions = opts.showConditions.has('Machine');
  const sorted = [...machines].sort(byName);
  const single = (m: Obj): Node => ({
    row: objectRow(m, 'Machine', now),
    children: showConditions ? conditionRows(m, now).map((row) => ({ row, children: [] })) : [],
  });
  if (!opts.grouping || showConditions) return sorted.map(single);
  const groups = new Map<string, Obj[]>();
  for (const m of sorted) {
    const ready = readyOf(m);
    const key = [
      phaseOf(m, 'Machine'),
      ready?.status ?? '',
      ready?.status === 'True' ? '' : (ready?.reason ?? ''),
    ].join('|');
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const nodes: Node[] = [];
  for (const members of groups.values()) {
    const first = members[0]!;
    if (members.length === 1) {
      nodes.push(single(first));
      continue;
    }
    const row = objectRow(first, 'Machine', now);
    const youngest = members
      .map((m) => m.metadata.creationTimestamp ?? '')
      .sort()
      .at(-1);
    const messages = new Set(members.map((m) => readyOf(m)?.message ?? ''));
    const names = members.map((m) => m.metadata.name ?? '');
    const shown =
      names.length > 4 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ');
    const common = messages.size === 1 ? [...messages][0] : '';
    nodes.push({
      row: {
        ...row,
        name: `${members.length} Machines`,
        age: age(youngest, now),
        message: row.ready === 'True' || !common ? shown : `${common} (${shown})`,
      },
      children: [],
    });
  }
  // Not ready first: what is happening is what a person looks for.
  const rank = (n: Node) => (n.row.ready === 'True' ? 1 : 0);
  return nodes.sort((a, b) => rank(a) - rank(b));
}

export function buildTree(objs: ClusterObjects, opts: TreeOptions): Row[] {
  const now = opts.now ?? Date.now();
  const withConditions = (o: Obj, kind: string): Node => ({
    row: objectRow(o, kind, now),
    children: opts.showConditions.has(kind)
      ? conditionRows(o, now).map((row) => ({ row, children: [] }))
      : [],
  });
  const root = withConditions(objs.cluster, 'Cluster');
  const placed = new Set<Obj>();
  if (objs.controlPlane) {
    const cpName = objs.controlPlane.metadata.name;
    const mine = objs.machines.filter((m) => m.metadata.labels?.[CONTROL_PLANE_NAME_LABEL] === cpName);
    for (const m of mine) placed.add(m);
    const node = withConditions(objs.controlPlane, 'ControlPlane');
    node.children.push(...machineNodes(mine, opts, now));
    root.children.push(node);
  }
  for (const md of [...objs.deployments].sort(byName)) {
    const mine = objs.machines.filter((m) => m.metadata.labels?.[DEPLOYMENT_NAME_LABEL] === md.metadata.name);
    for (const m of mine) placed.add(m);
    const node = withConditions(md, 'MachineDeployment');
    node.children.push(...machineNodes(mine, opts, now));
    root.children.push(node);
  }
  const others = objs.machines.filter((m) => !placed.has(m));
  if (others.length > 0) {
    root.children.push({
      row: {
        prefix: '',
        name: 'Other Machines',
        ready: '',
        phase: '',
        reason: '',
        age: '',
        message: 'not made by this ControlPlane or a MachineDeployment of the cluster',
        tone: 'plain',
      },
      children: machineNodes(others, opts, now),
    });
  }
  const rows: Row[] = [];
  const walk = (node: Node, lead: string, last: boolean, top: boolean) => {
    rows.push({ ...node.row, prefix: top ? '' : `${lead}${last ? '└─' : '├─'}` });
    const childLead = top ? '' : `${lead}${last ? '  ' : '│ '}`;
    node.children.forEach((child, i) => {
      walk(child, childLead, i === node.children.length - 1, false);
    });
  };
  walk(root, '', true, true);
  return rows;
}

export const HEADER: Row = {
  prefix: '',
  name: 'NAME',
  ready: 'READY',
  phase: 'PHASE',
  reason: 'REASON',
  age: 'AGE',
  message: 'MESSAGE',
  tone: 'plain',
};

/** Column-aligned lines; `paint` colours a cell (identity when not on a terminal). */
export function renderRows(
  rows: Row[],
  paint: (tone: Tone | 'header' | 'condition', text: string) => string = (_t, s) => s,
): string[] {
  const all = [HEADER, ...rows];
  const w = {
    name: Math.max(...all.map((r) => r.prefix.length + r.name.length)),
    ready: Math.max(...all.map((r) => r.ready.length)),
    phase: Math.max(...all.map((r) => r.phase.length)),
    reason: Math.max(...all.map((r) => r.reason.length)),
    age: Math.max(...all.map((r) => r.age.length)),
  };
  return all.map((r, i) => {
    const name = `${r.prefix}${r.name}`.padEnd(w.name);
    const cells = [
      i === 0
        ? paint('header', name)
        : r.condition
          ? `${r.prefix}${paint('condition', r.name)}${' '.repeat(w.name - r.prefix.length - r.name.length)}`
          : name,
      i === 0 ? paint('header', r.ready.padEnd(w.ready)) : paint(r.tone, r.ready.padEnd(w.ready)),
      r.phase.padEnd(w.phase),
      r.reason.padEnd(w.reason),
      r.age.padStart(w.age),
      r.message,
    ];
    return cells.join('  ').trimEnd();
  });
}
