// The node images (hack/node-images.sh): built from images/ with no registry, imported by a real
// containerd under the names a node's config will use, and run by runc: hello answers through its
// own `hello get` (the image has no shell), pause ends cleanly on SIGTERM as pid 1. The containerd
// is the test's own (test/support/containerd.ts), and nothing of it may outlive the test.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cgroupDirs,
  type PrivateContainerd,
  requireNodePackages,
  shimSocket,
  startPrivateContainerd,
} from '../../support/containerd.js';
import { childrenOf, processesMentioning } from '../../support/procs.js';

const run = promisify(execFile);
const script = resolve(import.meta.dirname, '../../../hack/node-images.sh');

describe('node images', () => {
  let folder = '';
  let tag = '';
  let containerd: PrivateContainerd;
  const hostDirs = ['/run/containerd', '/var/lib/containerd', '/opt/containerd'];
  const before = new Map(hostDirs.map((d) => [d, existsSync(d) ? readdirSync(d).sort() : null]));

  beforeAll(async () => {
    requireNodePackages();
    // A cold build of both images takes 20-40 s on these machines, ~2 s with Go's build cache warm.
    folder = (await run(script, { timeout: 300_000 })).stdout.trim();
    tag = basename(folder);
    containerd = await startPrivateContainerd();
  }, 320_000);

  afterAll(async () => {
    await containerd?.stop();
  }, 60_000);

  it('builds each image once per content, under a tag that is a hash of its inputs', async () => {
    expect(tag).toMatch(/^[0-9a-f]{12}$/);
    for (const image of ['pause', 'hello']) {
      expect(readFileSync(join(folder, `${image}.ref`), 'utf8')).toBe(`clusterforge.dev/${image}:${tag}\n`);
    }
    const archive = join(folder, 'hello.tar');
    const built = statSync(archive).mtimeMs;
    const again = await run(script, { timeout: 60_000 });
    expect(again.stdout.trim()).toBe(folder);
    expect(statSync(archive).mtimeMs).toBe(built);
  });

  it('imports into containerd under clusterforge.dev/<image>:<tag>', async () => {
    for (const image of ['pause', 'hello']) {
      await containerd.ctr('images', 'import', join(folder, `${image}.tar`));
    }
    const names = (await containerd.ctr('images', 'ls', '-q')).split('\n').filter(Boolean).sort();
    expect(names).toEqual([`clusterforge.dev/hello:${tag}`, `clusterforge.dev/pause:${tag}`]);
  });

  it('runs hello: it answers `hello get` inside its container and logs the request to stdout', async () => {
    const id = 'hello';
    const logFile = join(containerd.dir, 'hello.log');
    await containerd.ctr(
      'run',
      '-d',
      ...containerd.runFlags(id),
      '--log-uri',
      `file://${logFile}`,
      '--env',
      'HOSTNAME=hello-pod',
      `clusterforge.dev/hello:${tag}`,
      id,
    );
    // The shim's socket is where test/support/containerd.ts expects it, so teardown can remove it.
    expect(existsSync(shimSocket(containerd.address, id))).toBe(true);
    expect(cgroupDirs(containerd.cgroupName(id)).length).toBeGreaterThan(0);

    // The image's user, not root (its config says 65532:65532).
    const pid = /^hello\s+(\d+)\s+RUNNING/m.exec(await containerd.ctr('task', 'ls'))?.[1];
    expect(pid).toBeDefined();
    expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65532\s/m);

    let answer = '';
    for (let attempt = 0; attempt < 50 && !answer; attempt++) {
      answer = await containerd
        .exec(id, `get-${attempt}`, 'hello', 'get', 'http://127.0.0.1:8080/')
        .catch(() => '');
      if (!answer) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe(`hello from hello-pod (clusterforge hello ${tag})\n`);
    // A failed GET exits non-zero (ctr passes the exit code on).
    await expect(
      containerd.exec(id, 'missing', 'hello', 'get', 'http://127.0.0.1:8080/missing'),
    ).rejects.toThrow();
    expect(readFileSync(logFile, 'utf8')).toMatch(/GET \/ 200/);

    await containerd.ctr('task', 'kill', id);
    await waitFor(async () => /^hello\s+\d+\s+STOPPED/m.test(await containerd.ctr('task', 'ls')));
    await containerd.ctr('task', 'delete', id);
    await containerd.ctr('container', 'delete', id);
    expect(existsSync(shimSocket(containerd.address, id))).toBe(false);
    expect(cgroupDirs(containerd.cgroupName(id))).toEqual([]);
  });

  it('runs pause as pid 1: it reaps the orphans it inherits, and exits 0 on SIGTERM', async () => {
    const id = 'pause';
    // The host's /usr, read-only, gives the shell-less image a shell to make an orphan with.
    const hostUsr = ['/usr', '/lib', '/lib64'].flatMap((d) => [
      '--mount',
      `type=bind,src=${realpathSync(d)},dst=${d},options=rbind:ro`,
    ]);
    // In the foreground with --rm: ctr exits with the container's exit code.
    const foreground = spawn(
      'ctr',
      [
        '--address',
        containerd.address,
        '-n',
        'k8s.io',
        'run',
        '--rm',
        '--null-io',
        ...containerd.runFlags(id),
        ...hostUsr,
        `clusterforge.dev/pause:${tag}`,
        id,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((done) => foreground.once('exit', (code) => done(code)));
    let pid = 0;
    await waitFor(async () => {
      pid = Number(/^pause\s+(\d+)\s+RUNNING/m.exec(await containerd.ctr('task', 'ls'))?.[1] ?? 0);
      return pid > 0;
    });

    // sh exits at once; its sleep is orphaned and, in the pod's PID namespace, handed to pid 1.
    await containerd.exec(
      id,
      'orphan',
      '/usr/bin/sh',
      '-c',
      '/usr/bin/sleep 1 </dev/null >/dev/null 2>&1 & exit 0',
    );
    expect((await childrenOf(pid)).map((c) => c.comm)).toEqual(['sleep']);
    // When it ends, pause waits for it: no zombie stays behind.
    await waitFor(async () => (await childrenOf(pid)).length === 0, 10_000);

    // A pid 1 with no SIGTERM handler would ignore this one, and the test would time out.
    await containerd.ctr('task', 'kill', '-s', 'SIGTERM', id);
    expect(await exited).toBe(0);
  });

  it('leaves nothing on the host: no process, mount, cgroup, shim socket or containerd folder', async () => {
    const { dir } = containerd;
    await containerd.stop();
    expect(await processesMentioning(dir)).toEqual([]);
    expect(readFileSync('/proc/mounts', 'utf8')).not.toContain(dir);
    expect(existsSync(dir)).toBe(false);
    for (const id of ['hello', 'pause']) expect(cgroupDirs(containerd.cgroupName(id))).toEqual([]);
    for (const d of hostDirs) {
      expect([d, existsSync(d) ? readdirSync(d).sort() : null]).toEqual([d, before.get(d)]);
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
