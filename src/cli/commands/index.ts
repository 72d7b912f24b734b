import type { CommandModule } from 'yargs';
import type { CliContext } from '../context.js';

/**
 * Every `ca` command, listed explicitly (no commandDir magic). Each entry is a factory so that
 * importing this file has no side effects and handlers get the context they run in.
 */
export type CommandFactory = (ctx: CliContext) => CommandModule<object, any>;

export const COMMANDS: readonly CommandFactory[] = [
];
