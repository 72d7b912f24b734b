/**
 * A card held open by another program (here: a second process with its own PC/SC session) is
 * reported as busy, with the reader named — not as "not in any reader" (ports 35963/35964).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EmulatorProcess } from '../helpers/emulator-process.js';
import { BIN, expectOk, runCommand, type Run } from '../helpers/run-command.js';
import { initTwoCardHome } from '../helpers/two-card-home.js';

const SERVICE = fileURLToPath(new URL('../../src/card/pcsc-card-service.js', import.meta.url));

// Opens a session on the reader (exclusive), says "held", and keeps it until stdin closes.
const HOLDER = `
import { PcscCardService } from ${JSON.stringify(SERVICE)};
const service = new PcscCardService();
const s = await service.open({ reader: process.argv[1] });
process.stdout.write('held\\n');
process.stdin.resume();
process.stdin.on('end', async () => { await s.close(); await service.close(); });
`;

let home: string;
let pin: string;
let rootEmu: EmulatorProcess;
let subEmu: EmulatorProcess;
const ca = (...args: string[]): Promise<Run> => runCommand(process.execPath, [BIN, ...args, '--home', home]);

before(async () => {
  ({ home, pin, rootEmu, subEmu } = await initTwoCardHome('cardca-busy-', [35963, 35964]));
  expectOk(await ca('ceremony', 'root', '--card', rootEmu.serial, '--pin-file', pin, '--yes'), 'ceremony root');
});

after(async () => {
  await rootEmu?.stop();
  await subEmu?.stop();
});

test('a root card held by another program: CARD_BUSY naming the reader, exit 3; free again, the CRL is signed', async () => {
  const holder: ChildProcess = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, rootEmu.readerName], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((res, rej) => {
      holder.stdout!.on('data', (d: Buffer) => (String(d).includes('held') ? res() : undefined));
      holder.on('exit', (code) => rej(new Error(`holder exited early (${code})`)));
    });
    const busy = await ca('crl', '--issuer', 'root', '--card', rootEmu.serial, '--pin-file', pin);
    assert.equal(busy.code, 3, busy.stderr);
    assert.match(busy.stderr, /CARD_BUSY/);
    assert.ok(busy.stderr.includes(rootEmu.readerName), busy.stderr);
  } finally {
    holder.stdin!.end();
    await new Promise((res) => holder.on('exit', res));
  }
  expectOk(await ca('crl', '--issuer', 'root', '--card', rootEmu.serial, '--pin-file', pin), 'crl once the card is free');
});
