import { existsSync, readFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { CommandModule } from 'yargs';
import { pemDecode } from '../../ca/chain.js';
import { CRL_REASON_CODES, type CrlReason } from '../../ca/crl/tbs-cert-list-input.js';
import { checkCommandClock, withConfirmClock, type ConfirmClockArgs } from '../clock-check.js';
import { CaError } from '../../ca/errors.js';
import { bytesEqual, toHex } from '../../common/hex.js';
import { withCa, withHome, type HomeArgs } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { println, type CliContext } from '../context.js';

interface RevokeArgs extends HomeArgs, ConfirmClockArgs {
  target: string;
  issuer?: string;
  reason: string;
  date?: string;
}

/** No holds, no removeFromCRL (the CRL builder refuses them; there are no delta CRLs). */
export const REVOCATION_REASONS = (Object.keys(CRL_REASON_CODES) as CrlReason[]).filter((r) => r !== 'certificateHold' && r !== 'removeFromCRL');

/** `ca revoke SERIAL|CERT --reason R`: record a revocation; the next `ca crl` publishes it. */
export function revokeCommand(ctx: CliContext): CommandModule<object, RevokeArgs> {
  return {
    command: 'revoke <target>',
    describe: 'Revoke a certificate by serial (hex, colons allowed) or certificate file',
    builder: (y) =>
      withConfirmClock(withHome(y))
        .positional('target', { type: 'string', describe: 'serial number in hex, or a certificate file (PEM/DER)' })
        .option('issuer', { type: 'string', describe: 'issuing CA (needed only if the serial is ambiguous)' })
        .option('reason', { type: 'string', demandOption: true, choices: REVOCATION_REASONS, describe: 'RFC 5280 §5.3.1 reason' })
        .option('date', { type: 'string', describe: 'revocation (invalidity) time, ISO 8601; default now' }) as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `revoke ${args.target}`, write: true }, async (ca) => {
        const now = checkCommandClock(ca, args, `revoke ${args.target}`);
        let serialHex: string;
        let issuerName = args.issuer;
        let certDer: Uint8Array | undefined;
        if (existsSync(args.target)) {
          const bytes = readFileSync(args.target);
          certDer = bytes.includes('-----BEGIN') ? pemDecode(bytes.toString('latin1'), 'CERTIFICATE') : new Uint8Array(bytes);
          const cert = AsnConvert.parse(certDer, Certificate);
          serialHex = toHex(new Uint8Array(cert.tbsCertificate.serialNumber)).toUpperCase();
        } else {
          serialHex = args.target.replace(/[:\s]/g, '').toUpperCase();
          if (!/^[0-9A-F]+$/.test(serialHex)) throw usageError(`${args.target} is neither a file nor a hex serial`);
        }
        let found = ca.store.getCertificate(serialHex, issuerName);
        if (certDer) found = found.filter((c) => c.der && bytesEqual(c.der, certDer));
        if (found.length === 0) {
          throw new CaError('REVOKE_NOT_FOUND', `no certificate with serial ${serialHex}${issuerName ? ` from ${issuerName}` : ''} in the database`, {
            hint: 'Check the serial with `ca list`.',
          });
        }
        if (found.length > 1) throw usageError(`serial ${serialHex} exists under several CAs`, 'Add --issuer NAME.');
        const c = found[0]!;
        issuerName = c.issuerName;
        const date = args.date ? new Date(args.date) : now;
        if (Number.isNaN(date.getTime())) throw usageError(`--date ${args.date} is not a date`);
        if (date.getTime() > now.getTime()) throw usageError('--date is in the future', 'A revocation date is when the key stopped being trusted, not later.');
        const reason = args.reason as CrlReason;
        const r = ca.store.revokeCertificate(c.id, date, reason, { event: 'certificate.revoked', ca: issuerName, data: { serial: c.serialHex, reason, date: date.toISOString() } }, now);
        println(ctx, `revoked ${r.serialHex} (${r.subject}) of ${issuerName}: ${reason}`);
        println(ctx, `  publish it: ca crl --issuer ${issuerName}`);
      }),
  };
}
