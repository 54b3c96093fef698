// Reads the lifecycle machine's definition back as plain data: its states and every transition with its
// guard. The diagram generator draws from it and the tests check that every transition is exercised.
import type { AnyStateMachine } from 'xstate';
import { clusterLifecycle } from './machine.js';

export interface MachineState {
  /** Dotted path from the root; '' for the root. */
  path: string;
  key: string;
  type: string;
  description?: string;
  /** The dotted path of the initial child of a compound state. */
  initial?: string;
  /** A choice: it only passes through (it has eventless transitions) and is never at rest. */
  transient: boolean;
  children: MachineState[];
}

export interface MachineTransition {
  /** The state that declares the transition (dotted path). */
  source: string;
  /** The event name, or 'always' for an eventless transition of a choice. */
  event: string;
  /** 1-based position among the source's transitions for that event: the order xstate tries them in. */
  order: number;
  /** The guard's name; '' when unguarded. */
  guard: string;
  /** The declared target (dotted path); absent for a targetless transition (stay, run the actions). */
  target?: string;
  actions: string[];
  /** A stable, unique name: `source --guard--> target`. */
  key: string;
}

interface NodeLike {
  key: string;
  path: string[];
  type: string;
  description?: string;
  states: Record<string, NodeLike>;
  initial?: { target: NodeLike[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}

interface TransitionLike {
  guard?: unknown;
  target?: NodeLike[];
  actions: unknown[];
}

function rootOf(machine: AnyStateMachine): NodeLike {
  return machine.root as unknown as NodeLike;
}

const pathOf = (node: NodeLike): string => node.path.join('.');

function describeState(node: NodeLike): MachineState {
  const children = Object.values(node.states).map(describeState);
  const state: MachineState = {
    path: pathOf(node),
    key: node.key,
    type: node.type,
    transient: (node.always?.length ?? 0) > 0,
    children,
  };
  if (node.description) state.description = node.description;
  const initial = node.initial?.target[0];
  if (node.type === 'compound' && initial) state.initial = pathOf(initial);
  return state;
}

/** The machine's state tree. */
export function machineStates(machine: AnyStateMachine = clusterLifecycle): MachineState {
  return describeState(rootOf(machine));
}

/** Every state in the tree, parents before children, in definition order. */
export function allStates(root: MachineState = machineStates()): MachineState[] {
  return [root, ...root.children.flatMap((child) => allStates(child))];
}

/** The leaves a cluster can rest in: atomic or final, not a choice. */
export function restingStates(root: MachineState = machineStates()): MachineState[] {
  return allStates(root).filter((s) => s.children.length === 0 && !s.transient && s.path !== '');
}

function nameOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'function') return value.name || 'inline';
  if (typeof value === 'object' && value !== null && 'type' in value) return String(value.type);
  return String(value);
}

export function transitionKey(t: Pick<MachineTransition, 'source' | 'guard' | 'target'>): string {
  return `${t.source} --${t.guard || 'always'}--> ${t.target ?? '(stay)'}`;
}

function collect(node: NodeLike, out: MachineTransition[]): void {
  const lists: [string, TransitionLike[]][] = [...node.transitions.entries()];
  if (node.always) lists.push(['always', node.always]);
  for (const [event, list] of lists) {
    list.forEach((t, i) => {
      const target = t.target?.[0];
      const transition: MachineTransition = {
        source: pathOf(node),
        event,
        order: i + 1,
        guard: t.guard === undefined ? '' : nameOf(t.guard),
        actions: t.actions.map(nameOf),
        key: '',
      };
      if (target) transition.target = pathOf(target);
      transition.key = transitionKey(transition);
      out.push(transition);
    });
  }
  for (const child of Object.values(node.states)) collect(child, out);
}

/** Every transition the machine defines, in definition order. */
export function machineTransitions(machine: AnyStateMachine = clusterLifecycle): MachineTransition[] {
  const out: MachineTransition[] = [];
  collect(rootOf(machine), out);
  return out;
}
