// The part of a cloud provider a kubelet worker needs: a kubelet started with
// --cloud-provider=external registers its Node tainted uninitialized and without an address, and
// waits for someone to say where it is. The local provider is that someone: it sets the node's
// addresses (loopback, where the kubelet listens), copies the Machine's node labels, and lifts the
// taint, as a cloud-controller-manager's node controller would.
import { type CoreV1Api, PatchStrategy, setHeaderOptions, type V1Node } from '@kubernetes/client-node';
import { LOOPBACK } from '../../../src/net/ports.js';

export const UNINITIALIZED_TAINT = 'node.cloudprovider.kubernetes.io/uninitialized';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export const isInitialized = (node: V1Node): boolean =>
  !(node.spec?.taints ?? []).some((t) => t.key === UNINITIALIZED_TAINT) &&
  Boolean(node.spec?.podCIDR) &&
  (node.status?.addresses ?? []).some((a) => a.type === 'InternalIP');

/** Sets the addresses, then the labels, pod subnet and taints; each step is a patch that is safe to repeat. */
export async function initializeNode(
  core: CoreV1Api,
  node: V1Node,
  labels: Record<string, string>,
  podCIDR: string,
) {
  const name = node.metadata?.name as string;
  let current = node;
  if (!(node.status?.addresses ?? []).some((a) => a.type === 'InternalIP')) {
    const addresses = [
      { type: 'InternalIP', address: LOOPBACK },
      { type: 'Hostname', address: name },
    ];
    current = await core.patchNodeStatus({ name, body: { status: { addresses } } }, mergePatch);
  }
  const taints = (current.spec?.taints ?? []).filter((t) => t.key !== UNINITIALIZED_TAINT);
  // The resourceVersion makes it a compare-and-swap: a taint added meanwhile is never dropped.
  const metadata = { labels, resourceVersion: current.metadata?.resourceVersion };
  // The pod subnet goes with the taint: the kubelet hands it to containerd, which writes the CNI config.
  const subnet = current.spec?.podCIDR ? {} : { podCIDR, podCIDRs: [podCIDR] };
  await core.patchNode({ name, body: { metadata, spec: { taints, ...subnet } } }, mergePatch);
}
