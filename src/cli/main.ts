import yargs from 'yargs';
import { CardcaError } from '../common/cardca-error.js';
import { commandsFor, listingOnly, summaryCommand } from './commands/index.js';
import { defaultContext, eprintln, type CliContext } from './context.js';
import { CliError } from './cli-error.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { skipHelpCache } from './yargs-help-cache.js';

/** Run the `ca` command line with `argv` (without node and script). Returns the exit code. */
export async function main(argv: readonly string[], ctx: CliContext = defaultContext()): Promise<number> {
  let parser = yargs([...argv])
    .scriptName('ca')
    .usage('$0 <command> [options]\n\ncardca: an offline certificate authority whose keys live on smart cards.')
    .strict()
    .demandCommand(1, 'Name a command; `ca --help` lists them.')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .epilogue('Docs: docs/README.md. Exit codes: docs/commands.md#exit-codes.')
    .fail((msg, err) => {
      if (err) throw err;
      throw new CliError('USAGE_ERROR', msg ?? 'invalid command line', { hint: 'Run the command with --help.' });
    })
    .exitProcess(false)
    .help()
    .version(false);
  try {
    // No command named: list them from their summaries, without loading any command module.
    const listing = listingOnly(argv);
    for (const entry of commandsFor(argv)) parser = parser.command(listing ? summaryCommand(entry) : (await entry.load())(ctx));
    skipHelpCache(parser);
    await parser.parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    reportError(ctx, err);
    return exitCodeFor(err);
  }
}

export function reportError(ctx: CliContext, err: unknown): void {
  if (err instanceof CardcaError) {
    eprintln(ctx, `error [${err.code}]: ${err.message}`);
    if (err.hint) eprintln(ctx, `  → ${err.hint}`);
  } else if (err instanceof Error) {
    eprintln(ctx, `internal error: ${err.message}`);
    if (ctx.env['CA_DEBUG']) eprintln(ctx, err.stack ?? '');
    else eprintln(ctx, '  → This is a bug in cardca. Re-run with CA_DEBUG=1 and report the output.');
  } else {
    eprintln(ctx, `internal error: ${String(err)}`);
  }
}
