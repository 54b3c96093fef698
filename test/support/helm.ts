// Runs helm (built once per version by hack/helm.sh: `make helm`, or make test's background build) on
// charts/clusterforge/, with Helm's own state (cache, config, data) in a folder of the test's, removed
// by dispose(): a test leaves nothing under ~/.cache/helm or ~/.config/helm.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../env/assets.js';

const run = promisify(execFile);
export const CHART = join(repoRoot, 'charts/clusterforge');

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Helm {
  (args: string[]): Promise<HelmResult>;
  dispose(): Promise<void>;
}

/** Builds helm when the cache lacks it (minutes, the first time only). */
export async function startHelm(): Promise<Helm> {
  const bin = (await run(join(repoRoot, 'hack/helm.sh'), [], { maxBuffer: 1 << 24 })).stdout.trim();
  const home = await mkdtemp(join(tmpdir(), 'clusterforge-helm-'));
  const env = {
    ...process.env,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
  };
  const helm = async (args: string[]): Promise<HelmResult> => {
    try {
      const { stdout, stderr } = await run(bin, args, { env, maxBuffer: 1 << 26 });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  };
  return Object.assign(helm, { dispose: () => rm(home, { recursive: true, force: true }) });
}

export interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

/** The objects of a multi-document YAML stream (empty documents dropped). */
export function yamlObjects(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}
