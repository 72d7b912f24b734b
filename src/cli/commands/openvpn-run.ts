import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { sha256 } from '../../ca/issuance.js';
import { decodeOpenvpnStaticKey, encodeOpenvpnStaticKey, STATIC_KEY_BYTES } from '../../ca/export/openvpn-static-key.js';
import { ExportError } from '../../ca/export/export-error.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { toHex } from '../../common/hex.js';
import { withCa, type CaContext } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';
import { TLS_CRYPT_KEY_PATH, type KeyArgs } from './openvpn.js';

/** The home's tls-crypt key (256 bytes), or undefined when none was created. */
export async function readTlsCryptKey(ca: CaContext): Promise<Uint8Array | undefined> {
  const p = join(ca.home, TLS_CRYPT_KEY_PATH);
  if (!existsSync(p)) return undefined;
  return decodeOpenvpnStaticKey(await readFile(p, 'utf8'));
}

// `ca openvpn`'s handlers; the definitions are openvpn.ts, what `--help` loads.

export async function runTlsCryptKey(ctx: CliContext, args: KeyArgs): Promise<void> {
  await withCa(ctx, args, { command: `openvpn tls-crypt-key ${args.action}`, write: args.action === 'create' }, async (ca) => {
    const path = join(ca.home, TLS_CRYPT_KEY_PATH);
    if (args.action === 'create') {
      if (existsSync(path) && !args.replace) {
        throw new ExportError('EXPORT_TLS_CRYPT_KEY_EXISTS', `the CA home already has a tls-crypt key (${path})`, {
          hint: 'Keep it (servers and clients share it), or pass --replace and re-export every server key and client profile.',
        });
      }
      const key = randomBytes(STATIC_KEY_BYTES);
      try {
        await writeFileAtomic(path, encodeOpenvpnStaticKey(key), { mode: 0o600, mkdirs: true });
        const fp = toHex(sha256(key));
        ca.store.audit({ event: 'openvpn.tls-crypt-key.created', data: { path: TLS_CRYPT_KEY_PATH, sha256: fp, replaced: args.replace === true } }, ca.clock.now());
        println(ctx, `tls-crypt key written to ${path} (mode 0600), SHA-256 ${fp}`);
        println(ctx, 'next: `ca openvpn tls-crypt-key export --out FILE` for each server; `ca export openvpn-client` includes it');
      } finally {
        key.fill(0);
      }
      return;
    }
    if (!args.out) throw usageError('export needs --out FILE', 'Example: `ca openvpn tls-crypt-key export --out /media/usb/server/tls-crypt.key`.');
    const key = await readTlsCryptKey(ca);
    if (!key) throw new ExportError('EXPORT_TLS_CRYPT_KEY_MISSING', 'the CA home has no tls-crypt key', { hint: 'Create it with `ca openvpn tls-crypt-key create`.' });
    const out = resolve(ctx.cwd, args.out);
    await writeFileAtomic(out, encodeOpenvpnStaticKey(key), { mode: 0o600, mkdirs: true });
    ca.store.audit({ event: 'openvpn.tls-crypt-key.exported', data: { to: out, sha256: toHex(sha256(key)) } }, ca.clock.now());
    key.fill(0);
    println(ctx, `wrote ${out} (mode 0600)`);
  });
}
