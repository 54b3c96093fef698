// Where each kind of ours lives in the API: group, version, plural.
import { GROUP, VERSION } from '../api/v1alpha1/group.js';

export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

const ours = (kind: string, plural: string): Resource => ({ group: GROUP, version: VERSION, plural, kind });

export const resources = {
  Cluster: ours('Cluster', 'clusters'),
  ControlPlane: ours('ControlPlane', 'controlplanes'),
  MachineTemplate: ours('MachineTemplate', 'machinetemplates'),
  MachineDeployment: ours('MachineDeployment', 'machinedeployments'),
  Machine: ours('Machine', 'machines'),
  Secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
} as const satisfies Record<string, Resource>;

export type ResourceKind = keyof typeof resources;

export function apiVersionOf(resource: Resource): string {
  return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}
