// `clusterforge version`: what this build is, and which API it serves.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { API_VERSION } from '../api/v1alpha1/meta.js';

/** package.json sits two folders up from both src/cli (tsx) and dist/src/cli (compiled). */
function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8'));
      if (pkg.name === 'clusterforge') return pkg.version as string;
    } catch {
      // Not at this depth: try the next.
    }
  }
  return 'unknown';
}

export function versionCommand(): Command {
  return new Command('version')
    .description('Print the version of clusterforge and the API version it serves')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .addHelpText('after', '\nExample:\n  clusterforge version -o json')
    .action((opts: { output: string }) => {
      const info = { clusterforge: packageVersion(), api: API_VERSION, node: process.version };
      if (opts.output === 'json') console.log(JSON.stringify(info, null, 2));
      else if (opts.output === 'text')
        console.log(`clusterforge ${info.clusterforge} (API ${info.api}, Node ${info.node})`);
      else {
        console.error(`clusterforge version: unknown --output '${opts.output}' (use text or json)`);
        process.exitCode = 2;
      }
    });
}
