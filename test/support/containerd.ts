// A containerd of the test's own: its root, state, socket, runc root and FIFOs all under one folder
// in /tmp (short, for the 107-byte limit of a unix socket path), the CRI plugin off, and every
// host path containerd 1.6 would still touch (/opt/containerd, /run/containerd/s, cgroups) known
// in advance so that the test can prove it left none of them behind.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processesMentioning } from './procs.js';

const run = promisify(execFile);
export const NAMESPACE = 'k8s.io';
const CGROUP_ROOT = '/sys/fs/cgroup';

/** Fails (never skips) when the node packages are missing: `make node-packages` installs them. */
export function requireNodePackages(): void {
  const missing = ['containerd', 'ctr', 'runc'].filter(
    (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0,
  );
  if (missing.length > 0) throw new Error(`${missing.join(', ')} not found: run make node-packages`);
}

/** Shim sockets go to /run/containerd/s/<sha256(address/namespace/id)> whatever the state dir. */
export function shimSocket(address: string, id: string): string {
  const hash = createHash('sha256')
    .update(join(address, NAMESPACE, id))
    .digest('hex');
  return join('/run/containerd/s', hash);
}

/** The cgroups (one per v1 controller, or the v2 one) named `name` at the top of the hierarchy. */
export function cgroupDirs(name: string): string[] {
  const dirs = [join(CGROUP_ROOT, name)];
  for (const entry of readdirSync(CGROUP_ROOT)) dirs.push(join(CGROUP_ROOT, entry, name));
  return dirs.filter((dir) => existsSync(dir));
}

export interface PrivateContainerd {
  dir: string;
  address: string;
  /** The cgroup name container `id` gets (under each controller): see cgroupDirs. */
  cgroupName(id: string): string;
  /** `ctr --address ... -n k8s.io <args>`; rejects on a non-zero exit. */
  ctr(...args: string[]): Promise<string>;
  /** `ctr task exec` of a command in container `id`; rejects when it exits non-zero. */
  exec(id: string, execId: string, ...command: string[]): Promise<string>;
  /** Options `ctr run` needs so that runc state and FIFOs stay in `dir`. */
  runFlags(id: string): string[];
  /** Stops every task, containerd and the shims; unmounts and removes everything it made. */
  stop(): Promise<void>;
}

const HOST_DIRS = ['/run/containerd/s', '/run/containerd', '/var/lib/containerd', '/opt/containerd'];

export async function startPrivateContainerd(): Promise<PrivateContainerd> {
  const dir = mkdtempSync('/tmp/cf-');
  const address = join(dir, 'c.sock');
  const existedBefore = new Set(HOST_DIRS.filter((d) => existsSync(d)));
  const ids = new Set<string>();
  const cgroupName = (id: string): string => `cf-test-${dir.slice('/tmp/cf-'.length)}-${id}`;
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      // No CRI: this containerd serves ctr only. The others would only probe for host filesystems.
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",',
      '  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",',
      '  "io.containerd.snapshotter.v1.devmapper"]',
      '[grpc]',
      `  address = "${address}"`,
      '[ttrpc]',
      `  address = "${address}.ttrpc"`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      // The opt plugin would otherwise create /opt/containerd.
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${dir}/opt"`,
      '',
    ].join('\n'),
  );
  const daemon: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  daemon.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });

  const ctr = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('ctr', ['--address', address, '-n', NAMESPACE, ...args], {
      timeout: 60_000,
    });
    return stdout;
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const id of ids) {
      await ctr('task', 'kill', '-s', 'SIGKILL', id).catch(() => {});
      await ctr('task', 'delete', '-f', id).catch(() => {});
      await ctr('container', 'delete', id).catch(() => {});
    }
    daemon.kill('SIGTERM');
    if (daemon.exitCode === null && daemon.signalCode === null) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
        daemon.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    // Should the deletes above have failed: the shims (they name our socket), then the containers
    // (whatever is left in our cgroups), then the cgroups, mounts and files.
    for (const { pid } of await processesMentioning(dir)) killQuietly(pid);
    for (const id of ids) {
      for (const cg of cgroupDirs(cgroupName(id))) {
        for (const pid of readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          killQuietly(Number(pid));
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const left: string[] = [];
    for (const id of ids) {
      for (const cg of cgroupDirs(cgroupName(id))) {
        try {
          rmdirSync(cg);
        } catch (err) {
          left.push(`${cg}: ${(err as Error).message}`);
        }
      }
      rmSync(shimSocket(address, id), { force: true });
    }
    const mounts = readFileSync('/proc/mounts', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[1] ?? '')
      .filter((target) => target.startsWith(`${dir}/`))
      .reverse();
    for (const target of mounts) spawnSync('umount', ['-l', target]);
    rmSync(dir, { recursive: true, force: true });
    // The shim made these folders if they were not there; they are removed only when empty.
    for (const hostDir of HOST_DIRS) {
      if (!existedBefore.has(hostDir) && existsSync(hostDir)) {
        try {
          rmdirSync(hostDir);
        } catch {
          // Not empty: something else uses it now; leave it.
        }
      }
    }
    // Only after everything else was tried, so that one stuck cgroup does not leave the rest.
    if (left.length > 0) throw new Error(`could not remove:\n${left.join('\n')}`);
  };

  // Ready when the API answers; a containerd that exits first fails with its log.
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (daemon.exitCode !== null) {
      await stop();
      throw new Error(`containerd exited (${daemon.exitCode}):\n${log}`);
    }
    if (
      await ctr('version').then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`containerd did not answer on ${address} within 20 s:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    dir,
    address,
    cgroupName,
    ctr,
    exec: (id, execId, ...command) =>
      ctr('task', 'exec', '--fifo-dir', join(dir, 'fifo'), '--exec-id', execId, id, ...command),
    runFlags: (id) => {
      ids.add(id);
      return [
        '--runc-root',
        join(dir, 'runc'),
        '--fifo-dir',
        join(dir, 'fifo'),
        '--cgroup',
        `/${cgroupName(id)}`,
      ];
    },
    stop,
  };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
