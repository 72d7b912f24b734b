import type { CommandModule } from 'yargs';
import { refuseInCeremonyBuild } from '../../common/build-flavour.js';

/**
 * Stands in for a command the ceremony build leaves out (its code is not in the bundle): it keeps
 * its place in `ca --help` and answers every use with USAGE_CEREMONY_BUILD instead of a
 * "module not found" crash.
 */
export function refusedCommand(name: string): CommandModule<object, any> {
  return {
    ...refusedSummary(name),
    builder: (y) => y.strict(false).help(false),
    handler: () => refuseInCeremonyBuild(`\`ca ${name}\``),
  };
}

/** What `ca --help` lists for a refused command (src/cli/commands/index.ts keeps the summaries). */
export function refusedSummary(name: string): { command: string; describe: string } {
  return { command: `${name} [args..]`, describe: 'not available in the ceremony build (rehearsal machines only)' };
}
