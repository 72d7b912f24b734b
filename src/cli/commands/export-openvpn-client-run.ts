import { CaError } from '../../ca/errors.js';
import { renderOpenvpnClient } from '../../ca/export/openvpn-client.js';
import { writeFileAtomic, writeFilesAtomically } from '../../common/atomic-write.js';
import { resolve } from 'node:path';
import { withCa } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';
import { chainRecords, oneCertificate } from './export-run.js';
import { readTlsCryptKey } from './openvpn-run.js';
import type { Args } from './export-openvpn-client.js';

function parseRemote(s: string, proto: 'udp' | 'tcp'): { host: string; port: number; proto: 'udp' | 'tcp' } {
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(s);
  const port = m?.[2] === undefined ? 1194 : Number(m[2]);
  if (!m || port < 1 || port > 65535) throw usageError(`--remote ${s}: expected HOST or HOST:PORT`, 'Example: --remote vpn.example.test:1194');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, proto };
}

// `ca export-openvpn-client`'s handlers; the definitions are export-openvpn-client.ts, what `--help` loads.

export async function runOpenvpnClient(ctx: CliContext, args: Args): Promise<void> {
  await withCa(ctx, args, { command: `export openvpn-client --serial ${args.serial}`, write: false }, async (ca) => {
    if ((args['pkcs11-provider'] === undefined) !== (args['pkcs11-id'] === undefined)) {
      throw usageError('give both --pkcs11-provider and --pkcs11-id, or neither', 'See `openvpn --show-pkcs11-ids MODULE` for the id.');
    }
    const c = oneCertificate(ca.store, String(args.serial), args.issuer);
    if (c.status !== 'issued' || !c.der) {
      throw new CaError('CERT_NOT_USABLE', `certificate ${c.serialHex} is ${c.status}: no client profile for it`, { hint: 'Issue a new client certificate with `ca sign` and export that one.' });
    }
    const serverIssuer = args['server-issuer'] ?? (ca.store.getCa('servers') ? 'servers' : c.issuerName);
    const remote = parseRemote(args.remote, args.proto);
    const clientChain = chainRecords(ca.store, c.issuerName, ca.home);
    const cn = /(?:^|,)\s*CN=([^,+]+)/.exec(c.subject)?.[1]?.trim() ?? c.serialHex;
    const name = cn.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '') || c.serialHex;
    const tlsCrypt = await readTlsCryptKey(ca);
    try {
      const files = renderOpenvpnClient({
        name,
        clientName: cn,
        serialHex: c.serialHex,
        issuingCa: c.issuerName,
        clientCert: c.der,
        clientIntermediates: clientChain.slice(0, -1).map((r) => r.der),
        serverTrust: chainRecords(ca.store, serverIssuer, ca.home).map((r) => r.der),
        remote,
        serverName: args['server-name'] ?? remote.host,
        inline: args.inline,
        ...(tlsCrypt ? { tlsCrypt } : {}),
        ...(args['pkcs11-provider'] ? { pkcs11: { provider: args['pkcs11-provider'], id: args['pkcs11-id']! } } : {}),
      });
      if (args.inline) {
        const target = resolve(ctx.cwd, args.out ?? files[0]!.path);
        await writeFileAtomic(target, files[0]!.bytes, { mode: files[0]!.mode, mkdirs: true });
        println(ctx, `wrote ${target}${files[0]!.mode === 0o600 ? ' (mode 0600: it holds the tls-crypt key)' : ''}`);
      } else {
        const paths = await writeFilesAtomically(resolve(ctx.cwd, args.out ?? `${name}-openvpn`), files);
        println(ctx, `wrote ${paths.length} files:`);
        for (const p of paths) println(ctx, `  ${p}`);
      }
      if (!args['pkcs11-provider']) println(ctx, `put the client's private key next to the profile as ${name}.key (cardca never had it)`);
      if (!tlsCrypt) println(ctx, 'note: no tls-crypt key in this CA home (`ca openvpn tls-crypt-key create` makes one)');
    } finally {
      tlsCrypt?.fill(0);
    }
  });
}
