// The `clusterforge` command line.
import { Command } from 'commander';
import { devCommand } from './dev.js';
import { operatorCommand } from './operator.js';
import { versionCommand } from './version.js';

const program = new Command('clusterforge')
  .description(
    'Declare Kubernetes clusters as YAML; Clusterforge creates, upgrades, scales and deletes them.',
  )
  .showHelpAfterError('(run with --help for usage)')
  .addCommand(devCommand())
  .addCommand(operatorCommand())
  .addCommand(versionCommand());

await program.parseAsync(process.argv);
