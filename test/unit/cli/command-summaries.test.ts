/**
 * `ca --help` lists every command from the summaries kept in src/cli/commands/index.ts instead
 * of loading the twenty command modules (issue #14 item 1: loading them made `ca --help` cost
 * 4× a bare `node -e 0`). The summaries must say exactly what the modules say, or the listing
 * would differ from what `ca <command> --help` shows: these tests compare them, and the whole
 * top-level help text with the summaries against the text with every module loaded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import yargs from 'yargs';
import { COMMANDS, listingOnly, summaryCommand } from '../../../src/cli/commands/index.js';
import { main } from '../../../src/cli/main.js';
import { defaultContext } from '../../../src/cli/context.js';

test("every command's summary is its module's command and description, and the module has nothing else ca --help shows", async () => {
  for (const entry of COMMANDS) {
    const m = (await entry.load())(defaultContext());
    const s = entry.summary();
    assert.equal(s.command, m.command, entry.name);
    assert.equal(s.describe, m.describe, entry.name);
    assert.equal(m.aliases, undefined, `${entry.name} has aliases, which the summary does not carry`);
    assert.equal(m.deprecated, undefined, `${entry.name} is deprecated, which the summary does not carry`);
  }
});

test('only a command line without any word (ca, ca --help, ca -h) is answered from the summaries', () => {
  assert.equal(listingOnly(['--help']), true);
  assert.equal(listingOnly(['-h']), true);
  assert.equal(listingOnly([]), true);
  assert.equal(listingOnly(['sign', '--help']), false);
  assert.equal(listingOnly(['--home', 'x', 'sign']), false);
  assert.equal(listingOnly(['sing']), false);
});

test('ca --help from the summaries is byte-identical to ca --help with every command module loaded', async () => {
  const full = async (): Promise<string> => {
    let p = yargs(['--help']).scriptName('ca').exitProcess(false).help().version(false).wrap(100);
    for (const e of COMMANDS) p = p.command((await e.load())(defaultContext()));
    return p.getHelp();
  };
  const fromSummaries = async (): Promise<string> => {
    let p = yargs(['--help']).scriptName('ca').exitProcess(false).help().version(false).wrap(100);
    for (const e of COMMANDS) p = p.command(summaryCommand(e));
    return p.getHelp();
  };
  assert.equal(await fromSummaries(), await full());
  // And main() still prints it (yargs writes help to the console).
  const log = console.log;
  const printed: string[] = [];
  console.log = (...a: unknown[]) => void printed.push(a.join(' '));
  try {
    assert.equal(await main(['--help']), 0);
  } finally {
    console.log = log;
  }
  assert.match(printed.join('\n'), /ca sign <csr\.\.>\s+Issue certificates from CSRs/);
});
