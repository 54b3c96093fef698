// The objects of the API validation tests, valid as given (each case changes one thing), and how a
// test asks the real API server for them: a refusal's message, or whether anything was stored.
import type { KubernetesObjectApi } from '@kubernetes/client-node';
import { expect } from 'vitest';

export type Obj = Record<string, any>;
const API = 'clusterforge.dev/v1alpha1';

export const cluster = (spec: Obj = { infrastructure: { local: {} } }, name = 'demo'): Obj => ({
  apiVersion: API,
  kind: 'Cluster',
  metadata: { name },
  spec: { controlPlaneRef: { name: `${name}-control-plane` }, ...spec },
});
export const ec2 = { region: 'eu-west-1' };
export const eks = {
  region: 'eu-west-1',
  roleARN: 'arn:aws:iam::123456789012:role/eks',
  nodeRoleARN: 'arn:aws:iam::123456789012:role/nodes',
};
export const controlPlane = (spec: Obj = {}, name = 'demo-cp'): Obj => ({
  apiVersion: API,
  kind: 'ControlPlane',
  metadata: { name },
  spec: { version: 'v1.37.2', replicas: 1, machineTemplateRef: { name: 'demo-local' }, ...spec },
});
export const template = (spec: Obj = { local: {} }, name = 'demo-local'): Obj => ({
  apiVersion: API,
  kind: 'MachineTemplate',
  metadata: { name },
  spec: { template: { spec } },
});
export const deployment = (spec: Obj = {}, name = 'demo-workers'): Obj => ({
  apiVersion: API,
  kind: 'MachineDeployment',
  metadata: { name },
  spec: {
    clusterName: 'demo',
    replicas: 2,
    version: 'v1.37.2',
    machineTemplateRef: { name: 'demo-local' },
    ...spec,
  },
});
export const machine = (spec: Obj = {}, name = 'demo-m1'): Obj => ({
  apiVersion: API,
  kind: 'Machine',
  metadata: { name },
  spec: {
    clusterName: 'demo',
    role: 'Worker',
    version: 'v1.37.2',
    machineTemplateRef: { name: 'demo-local' },
    ...spec,
  },
});

/** What a rule that reads a missing field or a malformed value adds to a refusal; never wanted. */
export const NOISE = /no such key|index out of bounds|evaluating rule|no such overload|invalid (CIDR|IP)/i;

/** The API server's message for a refused request, or undefined when it was accepted. */
export async function refusal(action: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await action();
    return undefined;
  } catch (err) {
    const body = (err as { body?: unknown }).body;
    const parsed = typeof body === 'string' ? JSON.parse(body) : body;
    return (parsed as { message?: string })?.message ?? String(err);
  }
}

/** That `message` is a refusal naming `field` with `phrase`, and nothing else beside it. */
export function expectRefusal(message: string | undefined, field: string, phrase: string): void {
  expect(message, 'the API server accepted it').toBeDefined();
  expect(message).toContain(field);
  expect(message).toContain(phrase);
  expect(message, 'CEL evaluation noise beside the message').not.toMatch(NOISE);
}

/** Puts objects in the test's namespace and reads them back. */
export function inNamespace(client: KubernetesObjectApi, namespace: () => string) {
  const withNamespace = (obj: Obj): Obj => ({
    ...obj,
    metadata: { ...obj.metadata, namespace: namespace() },
  });
  const exists = async (obj: Obj): Promise<boolean> => {
    try {
      await client.read({
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: withNamespace(obj).metadata,
      });
      return true;
    } catch {
      return false;
    }
  };
  return { withNamespace, exists };
}
