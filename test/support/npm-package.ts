// The npm package as a user gets it: `npm pack` of a clean tree (what git tracks, plus files not yet
// committed and not ignored; never the checkout's dist/), `npm install -g --prefix` of the tarball, and
// a way to run the installed command where the checkout cannot be read.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readlinkSync, realpathSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Packed {
  tarball: string;
  /** The paths in the tarball, relative to the package root (as `npm pack --json` lists them). */
  files: string[];
  size: number;
  unpackedSize: number;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A minimal environment: nothing of the caller's npm_* (npm_package_json names the checkout). */
export function cleanEnv(path: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = ['HOME', 'TMPDIR', 'LANG', 'npm_config_cache', 'CLUSTERFORGE_CACHE', 'XDG_CACHE_HOME'];
  const env: NodeJS.ProcessEnv = { PATH: path, ...extra };
  for (const name of keep) if (process.env[name]) env[name] = process.env[name];
  return env;
}

const systemPath = (): string => [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');

/** Copies the clean tree of `repo` into `stage` (node_modules as a link) and packs it into `out`. */
export async function packCleanTree(repo: string, stage: string, out: string): Promise<Packed> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    maxBuffer: 64 << 20,
  });
  for (const file of stdout.split('\0')) {
    if (!file || file === 'node_modules' || !existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(stage, file)), { recursive: true });
    cpSync(join(repo, file), join(stage, file), { verbatimSymlinks: true });
  }
  const modules = join(repo, 'node_modules');
  symlinkSync(realpathSync(modules), join(stage, 'node_modules'));
  // `npm pack` runs prepack: a fresh build into the stage's own dist/.
  const packed = await run('npm', ['pack', '--json', '--no-update-notifier', '--pack-destination', out], {
    cwd: stage,
    env: cleanEnv(systemPath()),
    timeout: 300_000,
    maxBuffer: 64 << 20,
  });
  const [info] = JSON.parse(packed.stdout) as {
    filename: string;
    files: { path: string }[];
    size: number;
    unpackedSize: number;
  }[];
  if (!info) throw new Error(`npm pack printed no package: ${packed.stdout}`);
  return {
    tarball: join(out, info.filename),
    files: info.files.map((f) => f.path),
    size: info.size,
    unpackedSize: info.unpackedSize,
  };
}

/** `npm install -g --prefix`: production dependencies from the npm cache where it has them. */
export async function installGlobally(tarball: string, prefix: string): Promise<void> {
  await run(
    'npm',
    [
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      tarball,
    ],
    { cwd: dirname(tarball), env: cleanEnv(systemPath()), timeout: 600_000, maxBuffer: 64 << 20 },
  );
}

/** The PATH of a user who installed into `prefix`: its bin first, then the system's (node, kubectl). */
export const userPath = (prefix: string): string => `${join(prefix, 'bin')}:${systemPath()}`;

/**
 * The folders a process must not read, hidden under an empty tmpfs in a mount namespace of its own
 * (it and everything it starts): the checkout and the node_modules it links to. Undefined when this
 * host cannot make one (not root, or no unshare).
 */
export async function hidingPrefix(folders: string[]): Promise<string[] | undefined> {
  try {
    await run('unshare', ['-m', '--propagation', 'private', 'true']);
  } catch {
    return undefined;
  }
  const mounts = folders.map((_, i) => `mount -t tmpfs -o size=1m none "$${i + 1}"`).join(' && ');
  return [
    'unshare',
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    `${mounts} && shift ${folders.length} && exec "$@"`,
    'hide',
    ...folders,
  ];
}

/** The checkout and the real folder of its node_modules (a link in a git worktree). */
export function checkoutFolders(repo: string): string[] {
  const folders = [realpathSync(repo)];
  try {
    readlinkSync(join(repo, 'node_modules'));
    folders.push(realpathSync(join(repo, 'node_modules')));
  } catch {
    // node_modules is a folder inside the checkout: hidden with it.
  }
  return folders;
}

/** Runs a command to its end with a time limit; output kept whole. */
export function runCommand(
  argv: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Run> {
  const [command, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The subcommands a `--help` lists under "Commands:" (commander's layout), `help` left out. */
export function subcommands(help: string): string[] {
  const section = /^Commands:\n((?:[ \t].*\n?)*)/m.exec(help)?.[1] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}
