// Writes docs/lifecycle.md from the machine definition: a Mermaid state diagram, the states with their
// phase and tasks, and every transition with its guard. Never edit the page by hand.
//
//   npx tsx src/lifecycle/generate-diagram.ts           rewrite docs/lifecycle.md
//   npx tsx src/lifecycle/generate-diagram.ts --check   exit 1 when docs/lifecycle.md is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  allStates,
  type MachineState,
  type MachineTransition,
  machineStates,
  machineTransitions,
  restingStates,
} from './introspect.js';
import { LIFECYCLE_SCHEMA_VERSION } from './machine.js';
import { phaseFor, tasksFor } from './tasks.js';

export const LIFECYCLE_DOC = fileURLToPath(new URL('../../docs/lifecycle.md', import.meta.url));

const ANY = 'anyState';

/** A transition as drawn: either one state's, or one that every resting state has (drawn from "any state"). */
interface Edge {
  from: string;
  guard: string;
  to?: string;
  actions: string[];
  event: string;
}

const mermaidId = (path: string): string => (path === '' ? '[*]' : path.replaceAll('.', '_'));

/**
 * Transitions every resting state declares alike are drawn once, from "any state". The result is in the order
 * xstate tries them: "any state" moves tried first, each state's own moves, "any state" moves tried last, then
 * the choice.
 */
function edges(root: MachineState, transitions: MachineTransition[]): Edge[] {
  const movers = restingStates(root)
    .filter((s) => s.type !== 'final')
    .map((s) => s.path);
  const keyOf = (t: MachineTransition) => JSON.stringify([t.event, t.guard, t.target, t.actions]);
  const groups = new Map<string, MachineTransition[]>();
  for (const t of transitions) groups.set(keyOf(t), [...(groups.get(keyOf(t)) ?? []), t]);
  const edgeOf = (t: MachineTransition, from: string): Edge => ({
    from,
    guard: t.guard,
    actions: t.actions,
    event: t.event,
    ...(t.target ? { to: t.target } : {}),
  });
  const first: Edge[] = [];
  const own: Edge[] = [];
  const last: Edge[] = [];
  const choices: Edge[] = [];
  const drawn = new Set<string>();
  for (const t of transitions) {
    const group = groups.get(keyOf(t)) ?? [];
    const sources = new Set(group.map((g) => g.source));
    const universal = group.length > 1 && movers.every((m) => m === t.target || sources.has(m));
    if (!universal) {
      (t.event === 'always' ? choices : own).push(edgeOf(t, t.source));
    } else if (!drawn.has(keyOf(t))) {
      drawn.add(keyOf(t));
      (group.every((g) => g.order === 1) ? first : last).push(edgeOf(t, ANY));
    }
  }
  return [...first, ...own, ...last, ...choices];
}

const label = (e: Edge): string =>
  [e.guard, e.actions.length ? `/ ${e.actions.join(', ')}` : ''].join(' ').trim();

function parentOf(path: string): string {
  const i = path.lastIndexOf('.');
  return i < 0 ? '' : path.slice(0, i);
}

function mermaid(root: MachineState, all: Edge[]): string {
  const lines = ['stateDiagram-v2'];
  const inside = new Map<string, Edge[]>();
  const outside: Edge[] = [];
  for (const e of all) {
    const to = e.to ?? e.from;
    const scope = e.from !== ANY && parentOf(e.from) === parentOf(to) ? parentOf(e.from) : '';
    if (scope === '') outside.push(e);
    else inside.set(scope, [...(inside.get(scope) ?? []), e]);
  }
  const edgeLine = (indent: string, e: Edge) =>
    `${indent}${mermaidId(e.from)} --> ${mermaidId(e.to ?? e.from)} : ${label(e)}`;

  const draw = (state: MachineState, indent: string) => {
    for (const child of state.children) {
      const id = mermaidId(child.path);
      if (child.transient) {
        lines.push(`${indent}state ${id} <<choice>>`);
      } else if (child.children.length > 0) {
        lines.push(`${indent}state ${id} {`);
        if (child.initial) lines.push(`${indent}  [*] --> ${mermaidId(child.initial)}`);
        draw(child, `${indent}  `);
        for (const e of inside.get(child.path) ?? []) lines.push(edgeLine(`${indent}  `, e));
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}state "${child.key}" as ${id}`);
        if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
      }
    }
  };
  if (root.initial) lines.push(`  [*] --> ${mermaidId(root.initial)}`);
  lines.push(`  state "any state" as ${ANY}`);
  draw(root, '  ');
  for (const e of outside) lines.push(edgeLine('  ', e));
  return lines.join('\n');
}

const code = (s: string): string => `\`${s}\``;

function statesTable(root: MachineState): string {
  const rows = restingStates(root).map(
    (s) =>
      `| ${code(s.path)} | ${phaseFor(s.path)} | ${tasksFor(s.path).map(code).join(', ') || 'none'} | ${s.description ?? ''} |`,
  );
  return ['| state | phase | tasks, in order | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function transitionsTable(all: Edge[]): string {
  const rows = all.map((e) => {
    const from = e.from === ANY ? 'any state' : code(e.from);
    const to = e.to ? code(e.to) : 'stays';
    const when = e.event === 'always' ? `${code(e.guard)} (choice)` : code(e.guard);
    return `| ${from} | ${when} | ${to} | ${e.actions.map(code).join(', ')} |`;
  });
  return ['| from | guard | to | actions |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function compoundsList(root: MachineState): string {
  return allStates(root)
    .filter((s) => s.path !== '' && s.children.length > 0)
    .map((s) => `- ${code(s.path)}: ${s.description ?? ''} It starts in ${code(s.initial ?? '')}.`)
    .join('\n');
}

const INTRO = `# The cluster lifecycle

<!-- Generated by \`npx tsx src/lifecycle/generate-diagram.ts\` from \`src/lifecycle/machine.ts\`. Do not edit:
     \`--check\` and a unit test fail when this page is stale. -->

Every cluster goes through one xstate v5 machine, \`clusterLifecycle\` in \`src/lifecycle/machine.ts\`. The
machine decides and the Cluster reconciler acts. On each reconcile the reconciler:

1. builds an \`Observation\` of the world from its cache and the provider;
2. restores the machine from \`status.lifecycle\` and sends it one \`{ type: 'OBSERVE', world }\` event
   with xstate's pure \`transition()\` (\`step()\` in \`src/lifecycle/snapshot.ts\`);
3. runs the tasks of the state it lands in (\`tasksFor\`);
4. writes the new snapshot and the state's phase (\`phaseFor\`) back to status.

The machine has no \`invoke\`, no \`after\` and no I/O. It never waits: a long provider operation is started
by a task, and the reconcile is requeued to look again.

## How it decides

\`deriveState(world)\` in \`src/lifecycle/derive.ts\` is the state a fresh observer would pick from the
world alone. Each guard is true exactly when \`deriveState\` picks that transition's target, and its name
says which fact decides it. So the guards never overlap, and their order only matters for reading.

Each state lists the moves it expects: provision, upgrade, scale, delete in order. Anything else the world
says goes through the choice \`rederive\`, whose branches follow \`deriveState\` rule by rule. One OBSERVE
is enough to land where \`deriveState\` points. A restarted operator therefore agrees with a snapshot it
rebuilds from the world, and a lost or old snapshot costs nothing.

The rules, most urgent first:

- **Paused beats everything, deletion included.** This is Cluster API's rule: a paused cluster is not
  reconciled at all. Unpause it to let a deletion proceed. \`paused\` runs no task and keeps
  \`pausedFrom\`, the state it was paused in. On unpause it goes where the world now says, which is
  \`pausedFrom\` while nothing changed meanwhile.
- **Deletion beats failure**, so a failed cluster can always be deleted. Deletion goes in order:
  workers, then control plane, then infrastructure, then the finalizer. A part that comes back sends the
  machine back to it.
- **A failure counts only for the generation it happened at.** \`failed\` keeps the reason, the message
  and the failed generation in its context, and runs no task. It is left when a spec change makes the
  failure stale (\`generation\` moved on), or when a later observation (after the reconciler's back-off)
  no longer reports it. Whether a failure persists across reconciles is the reconciler's choice: a
  terminal failure it keeps reporting holds the cluster in \`failed\` until the spec changes.
- Before the control plane is initialised, the cluster provisions in order. It is \`pending\` while
  nothing exists (\`childrenGone\` all true), then provisions the infrastructure, then the control plane.
  The control plane also counts as still provisioning until it reports the version it runs, because
  nothing can be decided about version skew before that.
- After that, a version change comes first: the control plane is upgraded, then the workers, so the
  version-skew rules hold. Then replica counts: \`scaling\`. Then readiness in pipeline order:
  infrastructure, control plane, workers. \`ready\` means all of it holds.

Consequences worth knowing:

- Phases are as level-derived as Cluster API's. A cluster that loses a worker node after \`ready\` shows
  Provisioning until the node is back. Until the cluster has been Ready once (its sticky \`Provisioned\`
  condition), machines still to come read Provisioning; after, a machine missing, extra, being removed
  or not yet Ready once (a new kubelet's Node is NotReady at first) reads Scaling. In \`ready\` the ensure
  and publish tasks still run, so drift is repaired.
- \`deleted\` is final. It is reached only when the observation says our finalizer is gone
  (\`finalizerRemoved\`). Usually the object disappears first, at \`deleting.finalizer\`.

## The snapshot in \`status.lifecycle\`

\`{ schemaVersion, state, context }\`. \`state\` is a dotted path such as \`upgrading.controlPlane\`, and
\`context\` holds at most \`failure\` and \`pausedFrom\`. This machine writes schema version
${LIFECYCLE_SCHEMA_VERSION}. Bump \`LIFECYCLE_SCHEMA_VERSION\` on any change that gives an old snapshot
a different meaning. \`restore()\` uses the persisted snapshot only when its schema version matches, its
state is one of the machine's states and its context reads back. It also distrusts a final state the world
disagrees with. In every other case it rebuilds the snapshot from the world with
\`clusterLifecycle.resolveState({ value: deriveState(world), context })\`. History is never replayed.`;

/** The whole page, as the generator writes it. */
export function renderLifecycleDoc(): string {
  const root = machineStates();
  const all = edges(root, machineTransitions());
  return `${[
    INTRO,
    '## Diagram',
    'Edges drawn from "any state" are declared alike by every state that can move. The diamond is the choice `rederive`.',
    `\`\`\`mermaid\n${mermaid(root, all)}\n\`\`\``,
    '## Compound states',
    compoundsList(root),
    '## States',
    statesTable(root),
    '## Transitions',
    'In the order xstate tries them: on OBSERVE a state tries `pauseRequested`, then its own moves, then `worldMoved`; the choice tries its branches in order. The guards never overlap, so the order is for reading.',
    transitionsTable(all),
  ].join('\n\n')}\n`;
}

function main(argv: string[]): number {
  const rendered = renderLifecycleDoc();
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(LIFECYCLE_DOC, 'utf8');
    } catch {
      // missing counts as stale
    }
    if (current === rendered) return 0;
    process.stderr.write('docs/lifecycle.md is stale: run npx tsx src/lifecycle/generate-diagram.ts\n');
    return 1;
  }
  writeFileSync(LIFECYCLE_DOC, rendered);
  process.stdout.write('wrote docs/lifecycle.md\n');
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
