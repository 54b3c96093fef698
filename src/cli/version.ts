// `clusterforge version` and `clusterforge --version`: what this build is, and which API it serves.
import { Command } from 'commander';
import { API_VERSION } from '../api/v1alpha1/group.js';
import { packageVersion } from '../package/root.js';

export function versionInfo(): { clusterforge: string; api: string; node: string } {
  return { clusterforge: packageVersion(), api: API_VERSION, node: process.version };
}

/** The one line both `version` and `--version` print. */
export function versionLine(info = versionInfo()): string {
  return `clusterforge ${info.clusterforge} (API ${info.api}, Node ${info.node})`;
}

export function versionCommand(): Command {
  return new Command('version')
    .description('Print the version of clusterforge and the API version it serves')
    .option('-o, --output <format>', 'output format: text or json', 'text')
    .addHelpText('after', '\nExample:\n  clusterforge version -o json')
    .action((opts: { output: string }) => {
      const info = versionInfo();
      if (opts.output === 'json') console.log(JSON.stringify(info, null, 2));
      else if (opts.output === 'text') console.log(versionLine(info));
      else {
        console.error(`clusterforge version: unknown --output '${opts.output}' (use text or json)`);
        process.exitCode = 2;
      }
    });
}
