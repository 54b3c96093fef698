// The CLI as an npm package, as a user gets it: `npm pack` of a clean tree, `npm install -g --prefix`
// of the tarball, and the installed `clusterforge` run from another folder with an environment that
// names nothing of the checkout. The short commands run under Node's permission model, allowed to read
// the install prefix only; `dev up` (which starts processes) runs in a mount namespace where the
// checkout is an empty folder. A file the code needs that package.json `files` leaves out fails here.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  checkoutFolders,
  cleanEnv,
  hidingPrefix,
  installGlobally,
  type Packed,
  packCleanTree,
  type Run,
  runCommand,
  subcommands,
  userPath,
} from '../support/npm-package.js';
import { processesMentioning } from '../support/procs.js';

const repo = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');
const root = mkdtempSync(join(tmpdir(), 'clusterforge-package-e2e-'));
const prefix = join(root, 'prefix');
const installed = join(prefix, 'lib', 'node_modules', 'clusterforge');
const elsewhere = join(root, 'elsewhere');
const devDir = join(root, 'dev');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};

let packed: Packed;
const env = cleanEnv(userPath(prefix), kubeAssetsEnv());
/** What every short command runs under: reads outside the install prefix are refused. */
const confined: NodeJS.ProcessEnv = {
  ...env,
  NODE_OPTIONS: `--experimental-permission --allow-fs-read=${prefix}/*`,
};

/** KUBEBUILDER_ASSETS when the run has one outside the checkout (dev up's binaries). */
function kubeAssetsEnv(): NodeJS.ProcessEnv {
  const assets = process.env.KUBEBUILDER_ASSETS;
  return assets && !assets.startsWith(repo) ? { KUBEBUILDER_ASSETS: assets } : {};
}

const explain = (run: Run): string =>
  `exit ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;

/** The installed `clusterforge`, found on PATH, from a folder that is not the checkout. */
const clusterforge = (args: string[], runEnv = confined, timeoutMs?: number): Promise<Run> =>
  runCommand(['clusterforge', ...args], { cwd: elsewhere, env: runEnv, timeoutMs });

/** Every file of a folder of the checkout, relative to the checkout. */
function filesUnder(folder: string): string[] {
  return readdirSync(join(repo, folder), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(repo, join(e.parentPath, e.name)));
}

beforeAll(async () => {
  mkdirSync(elsewhere, { recursive: true });
  const stage = join(root, 'stage');
  packed = await packCleanTree(repo, stage, root);
  // The copy of the sources goes before anything runs: the installed package is all there is.
  rmSync(stage, { recursive: true, force: true });
  await installGlobally(packed.tarball, prefix);
}, 900_000);

afterAll(async () => {
  // Whatever happened above, leave nothing running and nothing on disk.
  if (existsSync(devDir) && existsSync(join(prefix, 'bin', 'clusterforge'))) {
    await clusterforge(['dev', 'down', '--dir', devDir, '--timeout', '30s'], env, 90_000).catch(
      () => undefined,
    );
  }
  for (const p of await processesMentioning(`${root}/`)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(root, { recursive: true, force: true });
}, 120_000);

describe('the npm package', () => {
  it('holds every file the code reads, the compiled code of every module, and nothing else', () => {
    const files = new Set(packed.files);
    const needed = [
      'package.json',
      ...Object.values(pkg.bin),
      // Read at run time relative to the package root (src/package/root.ts and its users).
      ...filesUnder('crds'),
      ...filesUnder('templates'),
      'hack/kube-versions',
      // What the "binaries are missing" errors of an installed package tell the user to run.
      'hack/kube-assets.sh',
      'hack/node-images.sh',
      ...filesUnder('images'),
      // What the local provider copies into a cluster's folder and runs (providers/local/scripts.ts).
      'dist/providers/local/lb-process.mjs',
      'dist/providers/local/heartbeat-process.mjs',
      'dist/providers/local/node-init.sh',
      // Every module of src/ and providers/, compiled where bin/clusterforge.js imports it from.
      ...[...filesUnder('src'), ...filesUnder('providers')]
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => `dist/${f.replace(/\.ts$/, '.js')}`),
    ];
    expect(needed.filter((f) => !files.has(f))).toEqual([]);
    // No image archive from dist/image, no source maps (their sources are not shipped), no tests.
    const allowed =
      /^(package\.json|README\.md|bin\/|dist\/(src|providers)\/.*\.(js|mjs|sh)$|crds\/|templates\/|hack\/|images\/)/;
    expect(packed.files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(readFileSync(join(repo, 'bin', 'clusterforge.js'), 'utf8')).toContain("'../dist/src/cli/main.js'");
    console.log(
      `npm package: ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed, ` +
        `${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
    );
  });

  it("installs the local provider's helper scripts whole (dev up --workers 0 below runs only lb-process)", async () => {
    const local = join(installed, 'dist', 'providers', 'local');
    for (const [argv, file] of [
      [[process.execPath, '--check'], 'lb-process.mjs'],
      [[process.execPath, '--check'], 'heartbeat-process.mjs'],
      [['bash', '-n'], 'node-init.sh'],
    ] as const) {
      const check = await runCommand([...argv, join(local, file)], { cwd: elsewhere, env });
      expect(check.code, `${file}: ${explain(check)}`).toBe(0);
      expect(readFileSync(join(local, file), 'utf8')).toBe(
        readFileSync(join(repo, 'providers', 'local', file), 'utf8'),
      );
    }
  });

  it('runs from the install prefix with no trace of the checkout in its environment', async () => {
    expect(Object.values(env).filter((v) => v?.includes(repo))).toEqual([]);
    const version = await clusterforge(['--version']);
    expect(version.code, explain(version)).toBe(0);
    expect(version.stdout).toMatch(new RegExp(`^clusterforge ${pkg.version.replaceAll('.', '\\.')} \\(`));
    // The command on PATH is the installed copy's bin.
    const which = await runCommand(['sh', '-c', 'command -v clusterforge'], { cwd: elsewhere, env });
    expect(which.stdout.trim()).toBe(join(prefix, 'bin', 'clusterforge'));
  });

  it('--help of every command and subcommand', async () => {
    const seen: string[] = [];
    const walk = async (path: string[]): Promise<void> => {
      const help = await clusterforge([...path, '--help']);
      expect(help.code, `${path.join(' ')}: ${explain(help)}`).toBe(0);
      expect(help.stdout).toContain(`Usage: clusterforge${path.length ? ` ${path.join(' ')}` : ''}`);
      seen.push(path.join(' '));
      for (const sub of subcommands(help.stdout)) await walk([...path, sub]);
    };
    await walk([]);
    expect(seen).toEqual(
      expect.arrayContaining([
        'init',
        'generate cluster',
        'get kubeconfig',
        'dev up',
        'dev down',
        'operator',
      ]),
    );
  }, 180_000);

  it('init --dry-run -o yaml: the CRDs of crds/ and the operator of this version', async () => {
    const init = await clusterforge(['init', '--dry-run', '-o', 'yaml']);
    expect(init.code, explain(init)).toBe(0);
    const objects = parseAllDocuments(init.stdout).map((d) => d.toJS() as any);
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(filesUnder('crds').length);
    const deployment = objects.find((o) => o.kind === 'Deployment');
    expect(deployment.spec.template.spec.containers[0].image).toBe(
      `ghcr.io/clusterforge/clusterforge:v${pkg.version}`,
    );
  });

  it('generate cluster from every template in templates/', async () => {
    for (const file of filesUnder('templates')) {
      const [, provider, flavor] = /^templates\/([^/]+)\/cluster-template(?:-(.+))?\.yaml$/.exec(file) ?? [];
      expect(provider, file).toBeDefined();
      const args = ['generate', 'cluster', 'pkg', '--infrastructure', provider as string];
      if (flavor) args.push('--flavor', flavor);
      const vars = await clusterforge([...args, '--list-variables']);
      expect(vars.code, `${file}: ${explain(vars)}`).toBe(0);
      // A value for each variable the template requires and nothing sets (the EKS roles).
      const missing = vars.stdout
        .split('\n')
        .filter((line) => line.includes('MISSING'))
        .map((line) => line.trim().split(/\s+/)[0] as string);
      const value = (name: string) =>
        name.endsWith('_ARN') ? `arn:aws:iam::123456789012:role/${name.toLowerCase()}` : 'x';
      const withValues = { ...confined, ...Object.fromEntries(missing.map((v) => [v, value(v)])) };
      const out = await clusterforge(args, withValues);
      expect(out.code, `${file}: ${explain(out)}`).toBe(0);
      const kinds = parseAllDocuments(out.stdout).map((d) => (d.toJS() as any)?.kind);
      expect(kinds, file).toContain('Cluster');
    }
  }, 120_000);

  it('dev up without the binaries of a version names the build script the package ships', async () => {
    const { KUBEBUILDER_ASSETS: _, ...noAssets } = confined;
    const up = await clusterforge(
      ['dev', 'up', '--dir', devDir, '--kubernetes-version', 'v1.20.0'],
      noAssets,
    );
    expect(up.code, explain(up)).toBe(1);
    const script = join(installed, 'hack', 'kube-assets.sh');
    expect(up.stderr).toContain(`Run \`bash ${script} v1.20.0\` to build them once (with Go)`);
    expect(existsSync(script)).toBe(true);
    expect(existsSync(devDir)).toBe(false);
  });

  it('dev up and dev down, with the checkout hidden from every process they start', async () => {
    const hide = await hidingPrefix(checkoutFolders(repo));
    if (!hide) console.warn('package e2e: no mount namespace here; dev up runs with the checkout visible');
    const argv = [
      'clusterforge',
      'dev',
      'up',
      '--dir',
      devDir,
      '--name',
      'pkg',
      '--workers',
      '0',
      '--timeout',
      '2m',
    ];
    const started = Date.now();
    const up = await runCommand([...(hide ?? []), ...argv], { cwd: elsewhere, env, timeoutMs: 280_000 });
    expect(up.code, explain(up)).toBe(0);
    expect(up.stdout).toContain('Cluster pkg is Ready');
    // The operator it started is the installed copy's.
    const state = JSON.parse(readFileSync(join(devDir, 'state.json'), 'utf8'));
    const operator = await processesMentioning(`${installed}/bin/clusterforge.js operator`);
    expect(operator.map((p) => p.pid)).toEqual([state.operator.pid]);
    console.log(`package e2e: dev up --workers 0 from the installed package took ${Date.now() - started} ms`);

    const down = await runCommand([...(hide ?? []), 'clusterforge', 'dev', 'down', '--dir', devDir], {
      cwd: elsewhere,
      env,
      timeoutMs: 180_000,
    });
    expect(down.code, explain(down)).toBe(0);
    expect(await processesMentioning(`${devDir}/`)).toEqual([]);
    expect(existsSync(devDir)).toBe(false);
  }, 480_000);
});
