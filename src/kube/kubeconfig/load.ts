// Reading kubeconfig files and merging them as kubectl merges the files of KUBECONFIG: for each cluster,
// user and context name the first file that has it wins, and so does the first file that sets
// current-context. Entries are mapped (and checked) by client-node's own config_types.js.
import { accessSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
import { load } from 'js-yaml';
import type { Cluster, KubeconfigData, User } from './config.js';

/** One kubeconfig's text; an empty file is an empty kubeconfig (as for kubectl). */
// js-yaml, as client-node reads kubeconfigs with it (the same YAML rules), and one module where yaml
// is 73: every command of the CLI reads a kubeconfig first (issue #15's start-up within 2x kubectl).
export function parseKubeconfig(text: string): KubeconfigData {
  const obj = (load(text) ?? {}) as Record<string, unknown>;
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new Error('not a kubeconfig (not a YAML map)');
  const current = obj['current-context'];
  return {
    clusters: newClusters(obj.clusters),
    users: newUsers(obj.users),
    contexts: newContexts(obj.contexts),
    currentContext: typeof current === 'string' && current !== '' ? current : undefined,
  };
}

/**
 * One kubeconfig file; relative certificate-authority, client-certificate and client-key paths are
 * taken from the file's folder (as client-node's loadFromFile does).
 */
export function readKubeconfigFile(path: string): KubeconfigData {
  const data = parseKubeconfig(readFileSync(path, 'utf8'));
  const root = dirname(path);
  const absolute = (file: string) => (isAbsolute(file) ? file : join(root, file));
  for (const cluster of data.clusters as { caFile?: string }[])
    if (cluster.caFile) cluster.caFile = absolute(cluster.caFile);
  for (const user of data.users as { certFile?: string; keyFile?: string }[]) {
    if (user.certFile) user.certFile = absolute(user.certFile);
    if (user.keyFile) user.keyFile = absolute(user.keyFile);
  }
  return data;
}

/** Several kubeconfigs as one, the first winning every conflict (kubectl's rule for KUBECONFIG). */
export function mergeKubeconfigs(configs: KubeconfigData[]): KubeconfigData {
  const firstOfEach = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firstOfEach(configs.map((c) => c.clusters)),
    users: firstOfEach(configs.map((c) => c.users)),
    contexts: firstOfEach(configs.map((c) => c.contexts)),
    currentContext: configs.find((c) => c.currentContext)?.currentContext,
  };
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** The pod's own service account, as client-node's loadFromCluster builds it (the token file re-read each minute). */
export function inClusterKubeconfig(env: NodeJS.ProcessEnv = process.env): KubeconfigData {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${host && isIPv6(host) ? `[${host}]` : host}:${port}`;
  const cluster: Cluster = {
    name: 'inCluster',
    caFile: `${SERVICE_ACCOUNT}/ca.crt`,
    server,
    skipTLSVerify: false,
  };
  const user: User = {
    name: 'inClusterUser',
    authProvider: { name: 'tokenFile', config: { tokenFile: `${SERVICE_ACCOUNT}/token` } },
  };
  let namespace: string | undefined;
  try {
    accessSync(`${SERVICE_ACCOUNT}/namespace`);
    namespace = readFileSync(`${SERVICE_ACCOUNT}/namespace`, 'utf8');
  } catch {
    // No namespace file: the context has none (and `default` is used).
  }
  return {
    clusters: [cluster],
    users: [user],
    contexts: [
      {
        name: 'inClusterContext',
        cluster: 'inCluster',
        user: 'inClusterUser',
        ...(namespace ? { namespace } : {}),
      },
    ],
    currentContext: 'inClusterContext',
  };
}
