// The tree of `clusterforge describe cluster`, from objects to lines, without a cluster.
import { describe, expect, it } from 'vitest';
import { buildTree, type Obj, renderRows } from '../../../src/cli/describe-tree.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString();
const ready = (
  status: 'True' | 'False',
  reason = status === 'True' ? 'Ready' : 'Provisioning',
  message = '',
) => ({
  conditions: [{ type: 'Ready', status, reason, message, lastTransitionTime: ago(5) }],
});

const machine = (
  name: string,
  owner: Record<string, string>,
  phase: string | undefined,
  r?: ReturnType<typeof ready>,
  age = 60,
): Obj => ({
  metadata: { name, labels: owner, creationTimestamp: ago(age) },
  spec: { clusterName: 'dev' },
  ...(phase ? { status: { phase, ...r } } : {}),
});
const cp = { 'clusterforge.dev/control-plane-name': 'dev-cp' };
const md = { 'clusterforge.dev/deployment-name': 'dev-md' };

const objects = {
  cluster: {
    metadata: { name: 'dev', creationTimestamp: ago(600) },
    status: { phase: 'Scaling', ...ready('False', 'Scaling', 'scaling workers') },
  },
  controlPlane: {
    metadata: { name: 'dev-cp', creationTimestamp: ago(600) },
    spec: { replicas: 1, version: 'v1.37.2' },
    status: { readyReplicas: 1, replicas: 1, updatedReplicas: 1, ...ready('True') },
  },
  deployments: [
    {
      metadata: { name: 'dev-md', creationTimestamp: ago(600) },
      spec: { replicas: 5, clusterName: 'dev' },
      status: {
        readyReplicas: 2,
        replicas: 5,
        updatedReplicas: 5,
        ...ready('False', 'WaitingForMachines', 'MachinesReady: 2 of 5 machines ready'),
      },
    },
  ],
  machines: [
    machine('dev-cp-aaaaa', cp, 'Running', ready('True'), 600),
    machine('dev-md-bbbbb', md, 'Running', ready('True'), 500),
    machine('dev-md-ccccc', md, 'Running', ready('True'), 400),
    machine('dev-md-ddddd', md, 'Provisioning', ready('False', 'Provisioning', 'registering the node'), 3),
    machine('dev-md-eeeee', md, 'Provisioning', ready('False', 'Provisioning', 'registering the node'), 2),
    machine('dev-md-fffff', md, undefined, undefined, 1),
  ],
};

describe('buildTree', () => {
  it('draws Cluster -> ControlPlane -> Machines and MachineDeployment -> Machines, grouping machines by state', () => {
    const lines = renderRows(buildTree(objects, { showConditions: new Set(), grouping: true, now: NOW }));
    expect(lines).toEqual([
      'NAME                        READY  PHASE         REASON              AGE  MESSAGE',
      'Cluster/dev                 False  Scaling       Scaling             10m  scaling workers',
      '├─ControlPlane/dev-cp       True                                     10m  1/1 ready, v1.37.2',
      '│ └─Machine/dev-cp-aaaaa    True   Running                           10m',
      '└─MachineDeployment/dev-md  False                WaitingForMachines  10m  MachinesReady: 2 of 5 machines ready',
      '  ├─2 Machines              False  Provisioning  Provisioning         2s  registering the node (dev-md-ddddd, dev-md-eeeee)',
      '  ├─Machine/dev-md-fffff           Pending                            1s',
      '  └─2 Machines              True   Running                            6m  dev-md-bbbbb, dev-md-ccccc',
    ]);
  });

  it('lists every machine, each with its conditions, for --show-conditions all', () => {
    const kinds = new Set(['Cluster', 'ControlPlane', 'MachineDeployment', 'Machine']);
    const rows = buildTree(objects, { showConditions: kinds, grouping: true, now: NOW });
    expect(rows.filter((r) => r.name.startsWith('Machine/'))).toHaveLength(6);
    expect(rows.filter((r) => r.condition && r.name === 'Ready')).toHaveLength(1 + 1 + 1 + 5);
    const lines = renderRows(rows);
    expect(lines[2]).toBe(
      '├─Ready                     False                Scaling              5s  scaling workers',
    );
  });

  it('puts machines of no known owner under "Other Machines"', () => {
    const rows = buildTree(
      {
        cluster: objects.cluster,
        deployments: [],
        machines: [machine('stray', {}, 'Running', ready('True'))],
      },
      { showConditions: new Set(), grouping: true, now: NOW },
    );
    expect(rows.map((r) => `${r.prefix}${r.name}`)).toEqual([
      'Cluster/dev',
      '└─Other Machines',
      '  └─Machine/stray',
    ]);
  });

  it('colours through the paint function only', () => {
    const painted = renderRows(
      buildTree(objects, { showConditions: new Set(), grouping: true, now: NOW }),
      (tone, text) => (tone === 'ok' ? `<${text}>` : text),
    );
    expect(painted[2]).toContain('<True >');
  });
});
