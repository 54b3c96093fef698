// The `clusterforge` command line.
import { Command } from 'commander';
import { endQuietlyOnClosedPipe } from './closed-pipe.js';
import { versionLine } from './version.js';

endQuietlyOnClosedPipe();

// Each command's module (and what it imports) is loaded only when it may run: start-up time is most of a
// short command's time (npm run bench -- cli). In the order the help lists them.
const COMMANDS: Record<string, () => Promise<Command>> = {
  init: async () => (await import('./init.js')).initCommand(),
  generate: async () => (await import('./generate.js')).generateCommand(),
  get: async () => (await import('./get.js')).getCommand(),
  describe: async () => (await import('./describe.js')).describeCommand(),
  delete: async () => (await import('./delete.js')).deleteCommand(),
  dev: async () => (await import('./dev.js')).devCommand(),
  operator: async () => (await import('./operator.js')).operatorCommand(),
  version: async () => (await import('./version.js')).versionCommand(),
};

/**
 * The commands to register: the one the first word names, or all of them (for the help, `help CMD`,
 * and commander's "did you mean" on an unknown word); none for a bare --version.
 */
function commandsFor(args: string[]): string[] {
  const word = args.find((a) => !a.startsWith('-'));
  if (word !== undefined && Object.hasOwn(COMMANDS, word)) return [word];
  if (args.length === 1 && args[0] === '--version') return [];
  return Object.keys(COMMANDS);
}

const program = new Command('clusterforge')
  .description(
    'Declare Kubernetes clusters as YAML; Clusterforge creates, upgrades, scales and deletes them.',
  )
  .version(
    versionLine(),
    '--version',
    'print the version of clusterforge and exit (as `clusterforge version`)',
  )
  .showHelpAfterError('(run with --help for usage)');
for (const command of await Promise.all(commandsFor(process.argv.slice(2)).map((name) => COMMANDS[name]!())))
  program.addCommand(command);

await program.parseAsync(process.argv);
