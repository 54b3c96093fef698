// One kube-apiserver per control-plane machine, on its own loopback port, with the cluster's
// certificates, talking to every voting etcd member there is when it starts.

import type { EtcdGateway } from '../../src/etcd/gateway.js';
import { httpsRequest, type TlsIdentity } from '../../src/net/https.js';
import { done, inProgress, type Progress } from '../../src/provider/contract.js';
import { crashesForgiven } from '../../src/supervisor/index.js';
import { controlPlaneFiles } from './certificates.js';
import { votingClientURLs } from './etcd.js';
import { ensureProcess, type MachineScope, saveMachine, stopProcess } from './scope.js';

export const apiServerURL = (port: number): string => `https://127.0.0.1:${port}`;

export function apiServerArgs(scope: MachineScope, etcdServers: string[]): string[] {
  if (!scope.binaries) throw new Error(`kube-apiserver of ${scope.record.name}: no binaries`);
  const f = controlPlaneFiles(scope.paths);
  const { serviceDomain, serviceCIDR } = scope.network;
  return [
    scope.binaries.kubeApiServer,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${scope.record.ports.apiServer}`,
    `--etcd-servers=${etcdServers.join(',')}`,
    `--etcd-cafile=${f.etcdCACert}`,
    `--etcd-certfile=${f.apiServerEtcdClientCert}`,
    `--etcd-keyfile=${f.apiServerEtcdClientKey}`,
    `--tls-cert-file=${f.apiServerCert}`,
    `--tls-private-key-file=${f.apiServerKey}`,
    `--client-ca-file=${f.caCert}`,
    `--kubelet-client-certificate=${f.apiServerKubeletClientCert}`,
    `--kubelet-client-key=${f.apiServerKubeletClientKey}`,
    '--kubelet-preferred-address-types=InternalIP,Hostname',
    `--service-account-issuer=https://kubernetes.default.svc.${serviceDomain}`,
    `--service-account-key-file=${f.saPublicKey}`,
    `--service-account-signing-key-file=${f.saPrivateKey}`,
    `--service-cluster-ip-range=${serviceCIDR}`,
    '--authorization-mode=Node,RBAC',
    '--enable-admission-plugins=NodeRestriction',
    '--allow-privileged=true',
    `--requestheader-client-ca-file=${f.frontProxyCACert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-username-headers=X-Remote-User',
    `--proxy-client-cert-file=${f.frontProxyClientCert}`,
    `--proxy-client-key-file=${f.frontProxyClientKey}`,
    // Every API server advertises 127.0.0.1 with its own port: letting each of them rewrite the
    // `kubernetes` Endpoints would only make it flap. No kube-proxy runs to route it anyway.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ];
}

/** Whether the API server at `url` answers /readyz with ok (as the cluster admin). */
export async function apiServerReady(url: string, admin: TlsIdentity): Promise<boolean> {
  try {
    const res = await httpsRequest(`${url}/readyz`, admin, { timeoutMs: 2_000 });
    return res.status === 200 && res.text.trim() === 'ok';
  } catch {
    return false;
  }
}

/** Keeps this machine's kube-apiserver running; done once it answers /readyz. */
export async function ensureApiServer(scope: MachineScope, gateway: EtcdGateway): Promise<Progress> {
  scope.record.apiServer ??= {};
  const api = scope.record.apiServer;
  const proc = await ensureProcess(
    scope,
    api,
    'kube-apiserver',
    async () => apiServerArgs(scope, await votingClientURLs(scope, gateway)),
    { logPath: scope.paths.apiServerLog },
  );
  if (!proc.running) return proc.progress;
  if (proc.started) {
    api.ready = false;
    api.inLoadBalancer = false;
    await saveMachine(scope);
    return inProgress('kube-apiserver started', 2_000);
  }
  return await checkReady(scope);
}

async function checkReady(scope: MachineScope): Promise<Progress> {
  const api = scope.record.apiServer ?? {};
  const ready = await apiServerReady(
    apiServerURL(scope.record.ports.apiServer as number),
    scope.identities.admin,
  );
  if (!ready) {
    if (api.ready) {
      api.ready = false;
      await saveMachine(scope);
    }
    return inProgress('waiting for kube-apiserver /readyz', 1_000);
  }
  const forgiven = crashesForgiven(api);
  if (!api.ready || forgiven) {
    api.ready = true;
    await saveMachine(scope);
  }
  return done();
}

/** Stops this machine's kube-apiserver. */
export async function stopApiServer(scope: MachineScope): Promise<Progress> {
  const api = scope.record.apiServer;
  // Not ready from the first SIGTERM on (stopProcess saves the record).
  if (api?.process) api.ready = false;
  return await stopProcess(scope, api, 'kube-apiserver');
}
