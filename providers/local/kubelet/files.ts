// The files a kubelet worker starts from, all in its machine folder: containerd's config and CNI
// template, the KubeletConfiguration, the kubelet's kubeconfig and flags, and node.env for
// node-init.sh. Written on every start so that a new operator version's settings apply.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderKubeconfig } from '../../../src/pki/index.js';
import { workerFiles } from '../certificates.js';
import { ensureDir, type MachinePaths, writeFileAtomic } from '../state.js';
import type { NodeSubnet } from './subnets.js';

export interface NodePaths {
  dir: string;
  /** A short id unique on this host: names the node's cgroup and bridge. */
  id: string;
  cgroup: string;
  bridge: string;
  containerdRoot: string;
  kubeletRoot: string;
  cniConfDir: string;
  logsDir: string;
}

/** Only the machine folder counts: `dev down` finds nodes by their folders alone. */
export function nodePaths(machine: Pick<MachinePaths, 'dir'>): NodePaths {
  const dir = join(machine.dir, 'node');
  const id = createHash('sha256').update(machine.dir).digest('hex').slice(0, 10);
  return {
    dir,
    id,
    cgroup: `clusterforge/${id}`,
    // At most 15 characters (IFNAMSIZ); the id keeps it apart from every other node here.
    bridge: `cf${id}`,
    containerdRoot: join(dir, 'containerd'),
    kubeletRoot: join(dir, 'kubelet'),
    cniConfDir: join(dir, 'cni'),
    logsDir: join(dir, 'logs'),
  };
}

export interface NodeSettings {
  nodeName: string;
  providerID: string;
  /** The cluster endpoint (the load balancer). */
  server: string;
  clusterName: string;
  serviceDomain: string;
  kubelet: string;
  kubeletPort: number;
  healthzPort: number;
  sandboxImage: string;
  /** The node's pod subnet; its first address is the bridge's. */
  subnet: NodeSubnet;
  /** OCI archives loaded into containerd before the kubelet starts (the sandbox image's first). */
  images: string[];
}

const CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

function containerdConfig(paths: NodePaths, settings: NodeSettings): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
# node-init.sh binds the node's containerd folder here, in the node's own mount namespace.
root = "/var/lib/containerd"
# /run is the node's own (node-init.sh): shim sockets, task state and network namespaces stay in it.
state = "/run/containerd"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "${CONTAINERD_SOCKET}"

[${cri}]
  sandbox_image = "${settings.sandboxImage}"
  # Without CAP_SYS_RESOURCE runc may not lower oom_score_adj: every sandbox fails unless it is asked not to.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${paths.cniConfDir}"
  # Rendered once the kubelet passes on the Node's pod CIDR (kube-controller-manager allocates it).
  conf_template = "${join(paths.dir, 'cni-template.json')}"
`;
}

/**
 * The node's bridge (node-init.sh makes it, with the subnet's first address, so the host reaches
 * pods on-link): no gateway for pods, no masquerade, no forwarding; the host's iptables and sysctls
 * stay as they are.
 */
function cniTemplate(paths: NodePaths, subnet: NodeSubnet): string {
  return `${JSON.stringify(
    {
      cniVersion: '0.4.0',
      name: 'clusterforge',
      plugins: [
        {
          type: 'bridge',
          bridge: paths.bridge,
          isGateway: false,
          ipMasq: false,
          hairpinMode: true,
          // The gateway is the bridge's address: host-local never hands it to a pod.
          ipam: { type: 'host-local', ranges: [[{ subnet: '{{.PodCIDR}}', gateway: subnet.gateway }]] },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

function kubeletConfiguration(paths: NodePaths, settings: NodeSettings, caFile: string): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: '127.0.0.1',
    port: settings.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: settings.healthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: caFile },
    },
    authorization: { mode: 'Webhook' },
    providerID: settings.providerID,
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${paths.cgroup}`,
    // These hosts mount cgroup v1, which kubelets refuse since 1.35 unless told.
    failCgroupV1: false,
    failSwapOn: false,
    // The host's iptables are not the node's to change.
    makeIPTablesUtilChains: false,
    clusterDomain: settings.serviceDomain,
    resolvConf: '/etc/resolv.conf',
    rotateCertificates: false,
    serializeImagePulls: false,
    // Disks here are shared with everything else: evict only when one is really full.
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '2%',
      'imagefs.available': '2%',
      'nodefs.inodesFree': '2%',
    },
    maxPods: 32,
  });
}

/** `NAME='value'` lines that bash sources as they are (a quote inside is closed, escaped, reopened). */
function shellAssignments(values: Record<string, string>): string {
  const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;
  return Object.entries(values)
    .map(([name, value]) => `${name}=${quote(value)}\n`)
    .join('');
}

/** Writes every file the node starts from; returns the command line that starts it. */
export async function writeNodeFiles(
  machine: MachinePaths,
  settings: NodeSettings,
  nodeInitScript: string,
): Promise<string[]> {
  const paths = nodePaths(machine);
  await Promise.all(
    [paths.logsDir, paths.cniConfDir, paths.containerdRoot, paths.kubeletRoot].map(ensureDir),
  );
  const pki = workerFiles(machine);
  const file = (name: string) => join(paths.dir, name);
  const [cert, key] = await Promise.all([readFile(pki.nodeCert, 'utf8'), readFile(pki.nodeKey, 'utf8')]);
  const ca = await readFile(pki.caCert, 'utf8');
  const kubeconfig = renderKubeconfig({
    clusterName: settings.clusterName,
    server: settings.server,
    caData: ca,
    clientCertData: cert,
    clientKeyData: key,
    user: `system:node:${settings.nodeName}`,
  });
  const args = [
    `--config=${file('kubelet-config.yaml')}`,
    `--kubeconfig=${file('kubelet.conf')}`,
    // node-init.sh binds the node's kubelet folder at the default /var/lib/kubelet.
    `--hostname-override=${settings.nodeName}`,
    // The operator acts as this node's cloud provider: it sets the node's address (a kubelet
    // refuses a loopback --node-ip) and lifts the uninitialized taint (initialize.ts).
    '--cloud-provider=external',
  ];
  await Promise.all([
    writeFileAtomic(file('containerd.toml'), containerdConfig(paths, settings), 0o644),
    writeFileAtomic(file('cni-template.json'), cniTemplate(paths, settings.subnet), 0o644),
    writeFileAtomic(file('kubelet-config.yaml'), kubeletConfiguration(paths, settings, pki.caCert), 0o644),
    writeFileAtomic(file('kubelet.conf'), kubeconfig, 0o600),
    writeFileAtomic(file('kubelet.args'), `${args.join('\n')}\n`, 0o644),
    writeFileAtomic(file('images.list'), `${settings.images.join('\n')}\n`, 0o644),
    writeFileAtomic(
      file('node.env'),
      shellAssignments({
        CGROUP: paths.cgroup,
        BRIDGE: paths.bridge,
        BRIDGE_ADDRESS: settings.subnet.bridgeAddress,
        CONTAINERD: 'containerd',
        CTR: 'ctr',
        KUBELET: settings.kubelet,
      }),
      0o644,
    ),
  ]);
  return ['/bin/bash', nodeInitScript, paths.dir];
}
