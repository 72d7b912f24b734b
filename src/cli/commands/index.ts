import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.js';
import { emulatorCommand } from './emulator.js';
import { cardCommand } from './card/card.js';
import { initCommand } from './init.js';
import { ceremonyCommand } from './ceremony.js';
import { signCommand } from './sign.js';
import { revokeCommand } from './revoke.js';
import { crlCommand } from './crl.js';
import { exportCommand } from './export.js';
import { listCommand } from './list.js';
import { showCommand } from './show.js';
import { auditCommand } from './audit.js';
import { dbCommand } from './db.js';
import { statusCommand } from './status.js';

/**
 * Every `ca` command, listed explicitly (no commandDir magic). Each entry is a factory so that
 * importing this file has no side effects and handlers get the context they run in.
 */
export type CommandFactory = (ctx: CliContext) => CommandModule<object, any>;

export const COMMANDS: readonly CommandFactory[] = [
  emulatorCommand,
  cardCommand,
  initCommand,
  ceremonyCommand,
  signCommand,
  revokeCommand,
  crlCommand,
  exportCommand,
  listCommand,
  showCommand,
  auditCommand,
  dbCommand,
  statusCommand,
];
