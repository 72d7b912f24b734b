import { readFileSync } from 'node:fs';
import { pemDecodeAll } from '../../src/ca/export/pem.js';
import { runCommand } from './run-command.js';

/** OpenSC's PKCS#11 module, as the tokens' .ovpn files name it. */
export const OPENSC_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

/** The certificates (DER) of a PEM file. */
export function pemCerts(file: string): Buffer[] {
  return pemDecodeAll(readFileSync(file, 'utf8')).filter((b) => b.label === 'CERTIFICATE').map((b) => Buffer.from(b.der));
}

/** `openvpn --show-pkcs11-ids MODULE`: the serialized id and DN of every certificate it lists. */
export async function showPkcs11Ids(module = OPENSC_MODULE): Promise<{ id: string; dn: string }[]> {
  const r = await runCommand('openvpn', ['--show-pkcs11-ids', module], { timeoutMs: 60_000 });
  const out: { id: string; dn: string }[] = [];
  let dn = '';
  for (const line of (r.stdout + r.stderr).split('\n')) {
    const d = /^\s*DN:\s*(.*)$/.exec(line);
    if (d) dn = d[1]!.trim();
    const m = /^\s*Serialized id:\s*(.*)$/.exec(line);
    if (m) out.push({ id: m[1]!.trim(), dn });
  }
  return out;
}
