// kube-controller-manager and kube-scheduler beside each control-plane machine's kube-apiserver, as
// a kubeadm control plane runs them: each talks to its own machine's API server with a client
// certificate of its own, and the machines of one control plane elect one leader of each (the
// components' own Lease in kube-system). Without them no Deployment makes a Pod, no Pod is scheduled,
// no ServiceAccount or kube-root-ca.crt appears.
import { join } from 'node:path';
import {
  CONTROLLER_MANAGER_USER,
  issueComponentClientCertificate,
  renderKubeconfig,
  SCHEDULER_USER,
} from '../../src/pki/index.js';
import type { ClusterCertificates } from '../../src/provider/contract.js';
import { done, type Progress } from '../../src/provider/contract.js';
import { crashesForgiven, type ProcessSlot } from '../../src/supervisor/index.js';
import { apiServerURL } from './apiserver.js';
import { controlPlaneFiles } from './certificates.js';
import { ensureProcess, type MachineScope, saveMachine, stopProcess } from './scope.js';
import { exists, type MachinePaths, writeFileAtomic } from './state.js';

type Component = 'kube-controller-manager' | 'kube-scheduler';

const USERS: Record<Component, typeof CONTROLLER_MANAGER_USER | typeof SCHEDULER_USER> = {
  'kube-controller-manager': CONTROLLER_MANAGER_USER,
  'kube-scheduler': SCHEDULER_USER,
};

const kubeconfigPath = (machine: MachinePaths, component: Component) =>
  join(machine.pkiDir, `${component}.conf`);

const logPath = (machine: MachinePaths, component: Component) => join(machine.logsDir, `${component}.log`);

/**
 * Writes each component's kubeconfig once (its own client certificate, this machine's API server).
 * Returns false when one is missing and no CA is at hand to issue it.
 */
export async function ensureComponentKubeconfigs(
  scope: MachineScope,
  certs: ClusterCertificates | undefined,
): Promise<boolean> {
  for (const component of Object.keys(USERS) as Component[]) {
    const path = kubeconfigPath(scope.paths, component);
    if (await exists(path)) continue;
    if (!certs) return false;
    const pair = await issueComponentClientCertificate(certs.ca, USERS[component]);
    const kubeconfig = renderKubeconfig({
      clusterName: scope.cluster.name,
      server: apiServerURL(scope.record.ports.apiServer as number),
      caData: certs.ca.cert,
      clientCertData: pair.cert,
      clientKeyData: pair.key,
      user: USERS[component],
    });
    await writeFileAtomic(path, kubeconfig, 0o600);
  }
  return true;
}

/** What both components start with: their kubeconfig for everything, no port, leader election. */
function commonArgs(scope: MachineScope, component: Component): string[] {
  const kubeconfig = kubeconfigPath(scope.paths, component);
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    // No serving port: nothing scrapes it, and two clusters would fight over the default one.
    '--secure-port=0',
    '--leader-elect=true',
    '--profiling=false',
  ];
}

function controllerManagerArgs(scope: MachineScope): string[] {
  const f = controlPlaneFiles(scope.paths);
  return [
    scope.binaries!.kubeControllerManager,
    ...commonArgs(scope, 'kube-controller-manager'),
    '--use-service-account-credentials=true',
    `--service-account-private-key-file=${f.saPrivateKey}`,
    `--root-ca-file=${f.caCert}`,
    `--cluster-name=${scope.cluster.name}`,
    `--service-cluster-ip-range=${scope.network.serviceCIDR}`,
    // The provider gives each kubelet Node its pod subnet (unique on this host: kubelet/subnets.ts).
    '--allocate-node-cidrs=false',
    '--controllers=*,bootstrapsigner,tokencleaner',
  ];
}

const schedulerArgs = (scope: MachineScope): string[] => [
  scope.binaries!.kubeScheduler,
  ...commonArgs(scope, 'kube-scheduler'),
];

const ARGS: Record<Component, (scope: MachineScope) => string[]> = {
  'kube-controller-manager': controllerManagerArgs,
  'kube-scheduler': schedulerArgs,
};

/** A component has no readiness endpoint here: one that has run for this long has its crashes forgiven. */
const STEADY_AFTER_MS = 60_000;

function slotOf(scope: MachineScope, component: Component): ProcessSlot {
  scope.record.components ??= {};
  scope.record.components[component] ??= {};
  return scope.record.components[component];
}

/** Keeps this machine's kube-controller-manager and kube-scheduler running (call once its API server is ready). */
export async function ensureComponents(scope: MachineScope): Promise<Progress> {
  for (const component of Object.keys(ARGS) as Component[]) {
    const slot = slotOf(scope, component);
    const proc = await ensureProcess(scope, slot, component, () => ARGS[component](scope), {
      logPath: logPath(scope.paths, component),
    });
    if (!proc.running) return proc.progress;
    const upSince = Date.parse(slot.process?.startedAt ?? '');
    if (Date.now() - upSince > STEADY_AFTER_MS && crashesForgiven(slot)) await saveMachine(scope);
  }
  return done();
}

/** Stops both components (before the API server they talk to). */
export async function stopComponents(scope: MachineScope): Promise<Progress> {
  for (const component of Object.keys(ARGS) as Component[]) {
    const stopped = await stopProcess(scope, scope.record.components?.[component], component);
    if (stopped.state !== 'done') return stopped;
  }
  return done();
}
