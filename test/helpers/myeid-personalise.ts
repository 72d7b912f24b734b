import { expectOk, runCommand } from './run-command.js';

/** Test PINs of an emulated MyEID (pkcs15-init's limits: 4–8 characters); never real ones. */
export const MYEID_TEST_PIN = '123456';
export const MYEID_TEST_PUK = '12345678';

/** OpenSC's reader number (`opensc-tool -l`) of the reader named `readerName`. */
export async function openscReaderIndex(readerName: string): Promise<string> {
  const list = expectOk(await runCommand('opensc-tool', ['-l'], { timeoutMs: 60_000 }), 'opensc-tool -l').stdout;
  const line = list.split('\n').find((l) => l.includes(readerName));
  if (!line) throw new Error(`opensc-tool -l does not list "${readerName}":\n${list}`);
  return line.trim().split(/\s+/)[0]!;
}

/**
 * Personalise an emulated MyEID with OpenSC's pkcs15-init only, the guides' workflow
 * (docs/card-setup.md "Aventra MyEID"): erase, PKCS#15 application with the pkcs15+onepin
 * profile, user PIN auth-id 01 with its PUK, the `keys` given (pkcs15-init --generate-key),
 * finalize. Returns OpenSC's reader number.
 */
export async function personaliseMyeid(readerName: string, o: { label: string; keys?: readonly { spec: string; label: string }[] }): Promise<string> {
  const reader = await openscReaderIndex(readerName);
  const p15 = async (...args: string[]) => expectOk(await runCommand('pkcs15-init', ['-r', reader, ...args], { timeoutMs: 180_000 }), `pkcs15-init ${args[0]}`);
  await p15('--erase-card');
  await p15('--create-pkcs15', '--profile', 'pkcs15+onepin', '--pin', MYEID_TEST_PIN, '--puk', MYEID_TEST_PUK, '--label', o.label);
  await p15('--store-pin', '--auth-id', '01', '--pin', MYEID_TEST_PIN, '--puk', MYEID_TEST_PUK, '--label', 'User PIN', '--profile', 'pkcs15+onepin');
  for (const k of o.keys ?? []) await p15('--generate-key', k.spec, '--auth-id', '01', '--pin', MYEID_TEST_PIN, '--label', k.label, '--profile', 'pkcs15+onepin');
  await p15('--finalize', '--profile', 'pkcs15+onepin');
  return reader;
}
