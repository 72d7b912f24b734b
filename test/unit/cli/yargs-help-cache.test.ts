// src/cli/yargs-help-cache.ts: a command's run does not render its help text (issue #14). The
// second test is the control: without skipHelpCache yargs does render it, so this file fails
// if a yargs release changes that mechanism and the skip silently stops working.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { skipHelpCache } from '../../../src/cli/yargs-help-cache.js';

interface Usage { hasCachedHelpMessage(): boolean }
const usageOf = (parser: unknown): Usage => (parser as { getInternalMethods(): { getUsageInstance(): Usage } }).getInternalMethods().getUsageInstance();

async function runCommand(skip: boolean): Promise<{ ran: boolean; cached: boolean; help: string }> {
  let ran = false;
  const parser = yargs(['demo', '--level', '3'])
    .scriptName('ca')
    .exitProcess(false)
    .command('demo', 'a demo command', (y) => y.option('level', { type: 'number', describe: 'how far' }), async () => {
      await Promise.resolve();
      ran = true;
    });
  if (skip) skipHelpCache(parser);
  await parser.parseAsync();
  const cached = usageOf(parser).hasCachedHelpMessage();
  // --help still renders in full (it never depended on the cache).
  let help = '';
  const helpParser = yargs().scriptName('ca').exitProcess(false)
    .command('demo', 'a demo command', (y) => y.option('level', { type: 'number', describe: 'how far' }), () => undefined);
  skipHelpCache(helpParser);
  await helpParser.parseAsync(['demo', '--help'], {}, (_err, _argv, output) => { help = output; });
  return { ran, cached, help };
}

test('skipHelpCache: the command runs and yargs renders no help text for it', async () => {
  const r = await runCommand(true);
  assert.equal(r.ran, true);
  assert.equal(r.cached, false);
  assert.match(r.help, /--level\s+how far/);
});

test('control: without skipHelpCache yargs renders the command help while the handler runs', async () => {
  const r = await runCommand(false);
  assert.equal(r.ran, true);
  assert.equal(r.cached, true, 'yargs no longer caches the help message: skipHelpCache has nothing to skip, remove it');
});
