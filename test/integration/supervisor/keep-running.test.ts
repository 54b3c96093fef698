// The supervisor with real processes: a crash between spawn and record adopts instead of starting a
// second copy; an unasked exit is restarted, a crash loop waits; what a process leaves is removed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  keepRunning,
  type Leftover,
  type ProcessSlot,
  present,
  processesRunning,
  removeLeftovers,
  stopRecorded,
} from '../../../src/supervisor/index.js';

const dirs: string[] = [];
const slots: ProcessSlot[] = [];

afterEach(async () => {
  for (const slot of slots.splice(0)) {
    if (slot.process) await stopRecorded(slot.process, { graceMs: 1_000 });
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clusterforge-supervisor-'));
  dirs.push(dir);
  return dir;
}

/** A long sleeper whose command line names its folder, as every supervised command line does. */
function sleeper(dir: string): string[] {
  return [process.execPath, '-e', 'setTimeout(() => {}, 300_000)', dir];
}

describe('keepRunning', () => {
  it('adopts the process a crash left unrecorded, and never starts a second', async () => {
    const dir = workDir();
    const argv = sleeper(dir);
    // What the crashed run saved: the record written before its spawn, with no pid.
    let saved: ProcessSlot | undefined;
    const crashed: ProcessSlot = {};
    slots.push(crashed);
    let saves = 0;
    await expect(
      keepRunning(crashed, {
        what: 'sleeper',
        argv: () => argv,
        logPath: join(dir, 'log'),
        save: async () => {
          saves += 1;
          if (saves === 1) saved = structuredClone(crashed);
          else throw new Error('crashed after the spawn, before the pid was recorded');
        },
      }),
    ).rejects.toThrow('crashed after the spawn');
    expect(saved?.process?.pid).toBeUndefined();
    // Until the child has exec'd, its command line is still ours.
    await expect.poll(() => processesRunning(argv).length).toBe(1);

    // The next run reads what was saved and looks again.
    const restarted = structuredClone(saved as ProcessSlot);
    slots.push(restarted);
    const result = await keepRunning(restarted, {
      what: 'sleeper',
      argv: () => argv,
      logPath: join(dir, 'log'),
      save: async () => {},
    });
    expect(result).toEqual({ state: 'running', adopted: true });
    const running = processesRunning(argv);
    expect(running).toHaveLength(1);
    expect(restarted.process?.pid).toBe(running[0]?.pid);
  });

  it('restarts a process that exited unasked, then waits out a crash loop', async () => {
    const dir = workDir();
    const slot: ProcessSlot = {};
    slots.push(slot);
    const opts = {
      what: 'quitter',
      argv: () => ['/bin/sh', '-c', `exit 3 # ${dir}`],
      logPath: join(dir, 'log'),
      save: async () => {},
      maxCrashes: 2,
      crashLoopBackoffMs: 60_000,
    };
    expect((await keepRunning(slot, opts)).state).toBe('started');
    await new Promise((r) => setTimeout(r, 300));
    expect((await keepRunning(slot, opts)).state).toBe('started');
    expect(slot.crashes).toBe(1);
    await new Promise((r) => setTimeout(r, 300));
    const looping = await keepRunning(slot, opts);
    expect(looping.state).toBe('crash-loop');
    expect(slot.crashes).toBe(2);
    // Within the back-off it says the same and starts nothing.
    const pid = slot.process?.pid;
    expect(await keepRunning(slot, opts)).toEqual(looping);
    expect(slot.process?.pid).toBe(pid);
  });

  it('stops a process after its grace period, across calls that may not block', async () => {
    const dir = workDir();
    // Ignores SIGTERM: only SIGKILL, once the grace period is over, ends it.
    const argv = ['/bin/sh', '-c', `trap '' TERM; while :; do sleep 0.1; done # ${dir}`];
    const slot: ProcessSlot = {};
    slots.push(slot);
    await keepRunning(slot, {
      what: 'stubborn',
      argv: () => argv,
      logPath: join(dir, 'log'),
      save: async () => {},
    });
    await new Promise((r) => setTimeout(r, 200));
    const first = await stopRecorded(slot.process, { graceMs: 1_000, waitMs: 200 });
    expect(first.stopped).toBe(false);
    expect(first.record?.stopRequestedAt).toBeDefined();
    await new Promise((r) => setTimeout(r, 1_000));
    const second = await stopRecorded(first.record, { graceMs: 1_000, waitMs: 3_000 });
    expect(second).toEqual({ stopped: true, record: undefined });
    expect(processesRunning(argv)).toHaveLength(0);
  });
});

describe('removeLeftovers', () => {
  it('removes a mount, a cgroup with a process in it, a bridge and a socket folder', async () => {
    const dir = workDir();
    const name = `cf${process.pid % 100_000}`;
    const mount = join(dir, 'mnt');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', 'none', mount]);
    writeFileSync(join(mount, 'file'), 'x');
    const cgroup = `clusterforge-test-${process.pid}`;
    const pidsDir = `/sys/fs/cgroup/pids/${cgroup}`;
    mkdirSync(pidsDir, { recursive: true });
    const slot: ProcessSlot = {};
    slots.push(slot);
    await keepRunning(slot, {
      what: 'member',
      argv: () => sleeper(dir),
      logPath: join(dir, 'log'),
      save: async () => {},
    });
    writeFileSync(join(pidsDir, 'cgroup.procs'), String(slot.process?.pid));
    execFileSync('ip', ['link', 'add', name, 'type', 'bridge']);
    const items: Leftover[] = [
      { kind: 'path', path: join(dir, 'state') },
      { kind: 'mount', path: mount },
      { kind: 'cgroup', path: cgroup },
      { kind: 'netdev', name },
    ];
    mkdirSync(join(dir, 'state'));
    try {
      expect(items.filter(present)).toHaveLength(4);
      expect(await removeLeftovers(items)).toHaveLength(4);
      expect(items.filter(present)).toHaveLength(0);
      expect(processesRunning(sleeper(dir))).toHaveLength(0);
      expect(await removeLeftovers(items)).toHaveLength(0);
    } finally {
      // Whatever an assertion above left behind.
      await removeLeftovers(items).catch(() => {});
    }
  });
});
