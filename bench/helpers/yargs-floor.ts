import yargs from 'yargs';

/**
 * The least a yargs command line does for `PROG sign --help`: one command, two options, the
 * settings `ca` uses (src/cli/main.ts). bench/start-up-and-batch.ts bundles it as `ca` is bundled
 * (scripts/cli-bundle-options.mjs) and times it next to `node -e 0`: the floor under issue #14's
 * "`ca <any command> --help` within 1.3× of `node -e 0`" for any CLI built on yargs, the design
 * card's parser.
 */
export async function yargsFloor(argv: readonly string[]): Promise<void> {
  await yargs([...argv])
    .scriptName('floor')
    .strict()
    .demandCommand(1)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .help()
    .version(false)
    .command(
      'sign <csr..>',
      'Issue certificates from CSRs',
      (y) => y.positional('csr', { type: 'string', array: true, describe: 'request files' }).option('issuer', { type: 'string', demandOption: true, describe: 'issuing CA name' }),
      () => undefined,
    )
    .parseAsync();
}
