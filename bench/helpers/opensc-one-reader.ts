/**
 * An OpenSC configuration that sees only one of the rig's readers, for benchmarks that run
 * OpenSC tools (pkcs11-tool, openssl's pkcs11 engine) as the peer.
 *
 * Why: at every C_Initialize OpenSC binds every card present. On the shared rig the other
 * readers hold other engineers' emulators (some with injected faults, which made C_GetSlotList
 * fail with CKR_GENERAL_ERROR in a bench run), and binding them costs time and APDUs that an
 * operator with one reader never pays. The settings otherwise match test/rig/opensc.conf.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { READER_BY_PORT } from '../../test/helpers/emulator-process.js';

/** Writes `opensc-<port>.conf` into `dir` and returns its path (for the OPENSC_CONF variable). */
export function openscConfForOneReader(dir: string, reader: string): string {
  const others = Object.values(READER_BY_PORT).filter((r) => r !== reader);
  // opensc.conf(5) `ignored_readers`: a reader is ignored when any listed string is a
  // substring of its name, so no listed name may be contained in the one we keep.
  const clash = others.find((r) => reader.includes(r));
  if (clash) throw new Error(`cannot ignore reader "${clash}" without also ignoring "${reader}"`);
  const file = join(dir, `opensc-${reader.replace(/\W+/g, '-')}.conf`);
  writeFileSync(
    file,
    [
      'app default {',
      `\tignored_readers = ${others.map((r) => JSON.stringify(r)).join(', ')};`,
      '\tframework pkcs15 {',
      '\t}',
      '}',
      'app opensc-pkcs11 {',
      '\tpkcs11 {',
      '\t\tmax_virtual_slots = 32;',
      '\t\tslots_per_card = 1;',
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
  return file;
}
