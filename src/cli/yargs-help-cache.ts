/**
 * yargs renders the running command's whole help text as soon as its handler has started
 * (yargs build/lib/command.js: `cacheHelpMessage()` right after `commandHandler.handler(…)`), so
 * that a `showHelp()` from inside the handler could print it later. `ca` never shows help from a
 * handler (a usage error says "Run the command with --help"), and that render costs every command
 * more CPU than parsing its command line (issue #14: about 5 % of one `ca sign`), so it is
 * skipped. `--help` itself does not use the cache. Should a yargs release drop or rename the
 * internal method, this does nothing, and test/unit/cli/yargs-help-cache.test.ts fails to say so.
 */
export function skipHelpCache(parser: unknown): void {
  const usage = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: unknown } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = (): void => undefined;
}
