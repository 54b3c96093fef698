// The pieces of what publishers render that more than one of them writes.
import { renderKubeconfig } from '../pki/kubeconfig.js';
import type { Credential } from './publisher.js';
import type { RenderedObject, RenderInputs } from './registration.js';

export const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** A Secret of type Opaque holding these texts (base64-encoded, as `data` wants them). */
export function opaqueSecret(
  metadata: RenderedObject['metadata'],
  texts: Record<string, string>,
): RenderedObject {
  const data = Object.fromEntries(Object.entries(texts).map(([key, text]) => [key, base64(text)]));
  return { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata, data };
}

/** A kubeconfig of the registered cluster whose user is the consumer's token. */
export function tokenKubeconfig(
  inputs: RenderInputs,
  credential: Credential,
  names: { user: string; context?: string },
): string {
  return renderKubeconfig({
    clusterName: inputs.name,
    server: inputs.server,
    caData: inputs.caPEM,
    token: credential.token,
    ...names,
  });
}
