// The `clusterforge` command line.
import { Command } from 'commander';
import { endQuietlyOnClosedPipe } from './closed-pipe.js';
import { deleteCommand } from './delete.js';
import { describeCommand } from './describe.js';
import { devCommand } from './dev.js';
import { generateCommand } from './generate.js';
import { getCommand } from './get.js';
import { initCommand } from './init.js';
import { operatorCommand } from './operator.js';
import { versionCommand, versionLine } from './version.js';

endQuietlyOnClosedPipe();

const program = new Command('clusterforge')
  .description(
    'Declare Kubernetes clusters as YAML; Clusterforge creates, upgrades, scales and deletes them.',
  )
  .version(
    versionLine(),
    '--version',
    'print the version of clusterforge and exit (as `clusterforge version`)',
  )
  .showHelpAfterError('(run with --help for usage)')
  .addCommand(initCommand())
  .addCommand(generateCommand())
  .addCommand(getCommand())
  .addCommand(describeCommand())
  .addCommand(deleteCommand())
  .addCommand(devCommand())
  .addCommand(operatorCommand())
  .addCommand(versionCommand());

await program.parseAsync(process.argv);
