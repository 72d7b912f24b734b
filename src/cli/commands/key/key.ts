import type { CommandModule } from 'yargs';
import type { CliContext } from '../../context.js';
import { keyBackupCommand } from './backup.js';
import { keyDrillCommand } from './drill.js';
import { keyRestoreCommand } from './restore.js';

/** `ca key …`: CA key custody (backup under the DKEK, restore onto another card, drill). */
export function keyCommand(ctx: CliContext): CommandModule<object, any> {
  return {
    command: 'key <command>',
    describe: 'CA key custody: backup, restore, drill (SmartCard-HSM DKEK; docs/key-custody.md)',
    builder: (y) =>
      y
        .command(keyBackupCommand(ctx) as CommandModule<object, any>)
        .command(keyRestoreCommand(ctx) as CommandModule<object, any>)
        .command(keyDrillCommand(ctx) as CommandModule<object, any>)
        .demandCommand(1, 'Name a key command; `ca key --help` lists them.'),
    handler: () => undefined,
  };
}
