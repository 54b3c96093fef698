// clusterforge_build_info{version, node_version} 1: which build a scraped operator runs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gauge, type Registry } from 'prom-client';
import { packageRoot } from '../devenv/assets.js';

export const BUILD_INFO_HELP =
  'Always 1; version is the clusterforge package version, node_version the Node.js runtime.';

const registered = new WeakSet<Registry>();

/** Registers the build info gauge in `registry`, once. */
export function exportBuildInfo(registry: Registry): void {
  if (registered.has(registry)) return;
  registered.add(registry);
  const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  new Gauge({
    name: 'clusterforge_build_info',
    help: BUILD_INFO_HELP,
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version, node_version: process.version }, 1);
}
