// Watches the Clusters, ControlPlanes, MachineDeployments and Machines of a namespace for the whole
// of a test and remembers every failure they showed (the Failed phase, a failureReason) and every
// condition message: a failure that lasts a moment is seen (a watch gets every change; a poll could
// step over it), and the messages tell what a user was shown while the operator backed off.
import { spawn } from 'node:child_process';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { expect } from 'vitest';
import { GROUP, VERSION } from '../../src/api/v1alpha1/meta.js';
import { testKubeconfigPath } from './kube.js';

export interface SeenFailure {
  kind: string;
  name: string;
  reasons: string;
}

export interface PhaseWatch {
  /** Every time an object was seen Failed or with a failureReason, with what it said. */
  readonly failures: SeenFailure[];
  /** Every distinct "type=reason: message" of a condition that was not True. */
  readonly messages: Set<string>;
  /** The distinct reasons of those conditions. */
  reasons(): string[];
  stop(): void;
}

const notTrue = (o: any): string[] =>
  (o?.status?.conditions ?? [])
    .filter((c: any) => c.status !== 'True')
    .map((c: any) => `${c.type}=${c.reason ?? ''}: ${c.message ?? ''}`);

export function watchPhases(
  kc: KubeConfig,
  namespace: string,
  plurals = ['clusters', 'controlplanes', 'machinedeployments', 'machines'],
): PhaseWatch {
  const failures: SeenFailure[] = [];
  const messages = new Set<string>();
  let stopped = false;
  const aborts: AbortController[] = [];
  const start = (plural: string): void => {
    if (stopped) return;
    new Watch(kc)
      .watch(
        `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`,
        { allowWatchBookmarks: false },
        (_type, o: any) => {
          for (const m of notTrue(o)) messages.add(m);
          // A failure a user is shown: the Failed phase, or a failure reason (a failed deletion keeps
          // the phase Deleting and says why in status.failureReason).
          if (o?.status?.phase === 'Failed' || o?.status?.failureReason) {
            const why = [o.status.failureReason, o.status.failureMessage, ...notTrue(o)].filter(Boolean);
            failures.push({ kind: o.kind, name: o.metadata?.name, reasons: why.join('; ') });
          }
        },
        // The server ends watches now and then: start again until stopped.
        () => setTimeout(() => start(plural), 100),
      )
      .then(
        (a) => (stopped ? a.abort() : aborts.push(a)),
        () => setTimeout(() => start(plural), 500),
      );
  };
  for (const p of plurals) start(p);
  return {
    failures,
    messages,
    reasons: () => [...new Set([...messages].map((m) => /^\w+=(\w*):/.exec(m)?.[1] ?? ''))],
    stop() {
      stopped = true;
      for (const a of aborts) a.abort();
    },
  };
}

/**
 * `kubectl get -w` of a Cluster's phase, Ready condition and lifecycle state, as a user watches it:
 * stop() ends it and returns every line it printed, each change once ("Ready True ready").
 */
export function watchClusterPhase(namespace: string, name: string): { stop: () => Promise<string[]> } {
  const child = spawn(
    'kubectl',
    [
      `--kubeconfig=${testKubeconfigPath()}`,
      `--namespace=${namespace}`,
      'get',
      `cluster.clusterforge.dev/${name}`,
      '--watch',
      '--no-headers',
      '--output=custom-columns=PHASE:.status.phase,READY:.status.conditions[?(@.type=="Ready")].status,STATE:.status.lifecycle.state',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
      expect(err).toBe('');
      const lines = out
        .split('\n')
        .map((l) => l.trim().split(/\s+/).join(' '))
        .filter(Boolean);
      return lines.filter((l, i) => i === 0 || lines[i - 1] !== l);
    },
  };
}
