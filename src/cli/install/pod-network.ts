// How the operator's pod reaches the API server where the `kubernetes` Service does not route: a
// cluster without kube-proxy (Cilium's kube-proxy replacement, the local provider's real nodes). Such
// clusters set KUBERNETES_SERVICE_HOST/PORT to the API server itself (Cilium's k8sServiceHost/Port);
// `init --api-server` does the same for the operator, and `--host-network` runs it in the node's network.
import { CliError, ExitCode } from '../common.js';

export interface ApiServerAddress {
  host: string;
  port: number;
}

export interface PodNetworkOptions {
  /** Run the operator in the node's network namespace (`--host-network`). */
  hostNetwork?: boolean;
  /** Where the operator finds the API server instead of the `kubernetes` Service (`--api-server`). */
  apiServer?: ApiServerAddress;
}

/** The host --api-server keeps: a name, IPv4, or IPv6 (two colons or more) without its brackets; or
 * empty. The chart's values schema checks apiServer.host with it. */
export const API_SERVER_HOST = /^([^:/[\]\s]+|[0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:.]*)?$/;

/** `host:port`, `[ipv6]:port`, or the same with https://, as `--api-server` takes it. */
export function parseApiServer(text: string): ApiServerAddress {
  const m = /^(?:https:\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/[\]\s]+):(\d{1,5})\/?$/.exec(text.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new CliError(
      `--api-server must be host:port (e.g. 10.0.0.10:6443 or [fd00::1]:6443), got '${text}'`,
      ExitCode.usage,
    );
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** What the container's environment adds: the API server override, and with host networking the
 * pod's name (its hostname is the node's there, and the leader Lease must tell the replicas apart). */
export function podNetworkEnv(opts: PodNetworkOptions): object[] {
  const env: object[] = [];
  if (opts.apiServer) {
    env.push(
      { name: 'KUBERNETES_SERVICE_HOST', value: opts.apiServer.host },
      { name: 'KUBERNETES_SERVICE_PORT', value: String(opts.apiServer.port) },
    );
  }
  if (opts.hostNetwork) {
    env.push({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  }
  return env;
}

/** The pod spec's fields for host networking; none without it. */
export function podNetworkSpec(opts: PodNetworkOptions): Record<string, unknown> {
  return opts.hostNetwork ? { hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' } : {};
}

/**
 * On the host network two replicas cannot share a node (the metrics port is the node's), so a rollout
 * on a one-node cluster would wait for ever with a surge: the old pod goes first.
 */
export function podNetworkStrategy(opts: PodNetworkOptions): Record<string, unknown> {
  return opts.hostNetwork
    ? { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } } }
    : {};
}

/** The Pod Security level of the namespace: host networking is outside baseline and restricted. */
export const podSecurityLevel = (opts: PodNetworkOptions): string =>
  opts.hostNetwork ? 'privileged' : 'restricted';
