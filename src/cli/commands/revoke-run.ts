import type { RevokeArgs } from './revoke.js';
import { existsSync, readFileSync } from 'node:fs';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { pemDecode } from '../../ca/chain.js';
import { CA_REASONS, SUBSCRIBER_REASONS, type CrlReason } from '../../ca/crl/tbs-cert-list-input.js';
import { checkCommandClock } from '../clock-check.js';
import { CaError } from '../../ca/errors.js';
import { bytesEqual, toHex } from '../../common/hex.js';
import { tokenBindings } from '../../ca/token-records.js';
import { withCa } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';

/** The handler of `ca revoke` (revoke.ts holds its definition): loaded only when the command runs, not for `ca revoke --help`. */
export async function runRevoke(ctx: CliContext, args: RevokeArgs): Promise<void> {
  await withCa(ctx, args, { command: `revoke ${args.target ?? `--card ${args.card}`}`, write: true }, async (ca) => {
    const now = checkCommandClock(ca, args, `revoke ${args.target ?? `--card ${args.card}`}`);
    if ((args.target === undefined) === (args.card === undefined)) throw usageError('name a serial or certificate file, or --card SERIAL (not both)');
    if (args.date !== undefined) eprintln(ctx, 'warning: --date is deprecated; it sets the invalidity (compromise) date. Use --compromised-at.');
    const compromisedText = args['compromised-at'] ?? args.date;
    // The revocationDate is the time of recording, always; a compromise date goes into
    // invalidityDate (RFC 5280 §5.3.2). The store keeps it as the revocation's revoked_at.
    const compromisedAt = compromisedText !== undefined ? new Date(compromisedText) : undefined;
    if (compromisedAt && Number.isNaN(compromisedAt.getTime())) throw usageError(`--compromised-at ${compromisedText} is not a date`, 'Use ISO 8601, e.g. 2026-11-30T14:00:00Z.');
    if (compromisedAt && compromisedAt.getTime() > now.getTime()) throw usageError('--compromised-at is in the future', 'It is when the key was (or may have been) compromised, which cannot be later than now.');
    const reason = args.reason as CrlReason;
    if (args.card !== undefined) {
      // Tokens hold end-entity certificates only (BR 4.9.1.1, 7.2.2 reasons).
      if (!SUBSCRIBER_REASONS.includes(reason)) {
        throw new CaError('REVOKE_REASON_NOT_ALLOWED', `reason ${reason} is not allowed for an end-entity certificate (BR 4.9.1, 7.2.2)`, { hint: `Use one of: ${SUBSCRIBER_REASONS.join(', ')}.` });
      }
      const bound = tokenBindings(ca.store.auditRecords(), args.card).filter((b) => args.issuer === undefined || b.issuerName === args.issuer);
      const certs = bound.flatMap((b) => ca.store.getCertificate(b.serialHex, b.issuerName).map((c) => ({ b, c })));
      const live = certs.filter((x) => x.c.status === 'issued');
      if (live.length === 0) {
        throw new CaError('REVOKE_NOT_FOUND', `no unrevoked certificate is enrolled on card ${args.card}${certs.length ? ` (${certs.length} already revoked)` : ''}`, {
          hint: 'Check with `ca list --card SERIAL`.',
        });
      }
      const issuers = new Set<string>();
      for (const { b, c } of live) {
        const r = ca.store.revokeCertificate(c.id, compromisedAt ?? now, reason, { event: 'certificate.revoked', ca: c.issuerName, data: { serial: c.serialHex, reason, revocationDate: now.toISOString(), ...(compromisedAt ? { invalidityDate: compromisedAt.toISOString() } : {}), card: b.cardSerial, keyId: b.keyId } }, now);
        issuers.add(c.issuerName);
        println(ctx, `revoked ${r.serialHex} (${r.subject}) of ${c.issuerName}, key ${b.keyId} on card ${b.cardSerial}: ${reason}`);
      }
      for (const i of issuers) println(ctx, `  publish it: ca crl --issuer ${i}`);
      return;
    }
    const target = args.target!;
    let serialHex: string;
    let issuerName = args.issuer;
    let certDer: Uint8Array | undefined;
    if (existsSync(target)) {
      const bytes = readFileSync(target);
      certDer = bytes.includes('-----BEGIN') ? pemDecode(bytes.toString('latin1'), 'CERTIFICATE') : new Uint8Array(bytes);
      const cert = AsnConvert.parse(certDer, Certificate);
      serialHex = toHex(new Uint8Array(cert.tbsCertificate.serialNumber)).toUpperCase();
    } else {
      serialHex = target.replace(/[:\s]/g, '').toUpperCase();
      if (!/^[0-9A-F]+$/.test(serialHex)) throw usageError(`${target} is neither a file nor a hex serial`);
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
    // BR 4.9.1.1 / 4.9.1.2 / 7.2.2: which reasons fit which kind of certificate.
    const allowed = c.isCa ? CA_REASONS : SUBSCRIBER_REASONS;
    if (!allowed.includes(reason)) {
      throw new CaError('REVOKE_REASON_NOT_ALLOWED', `reason ${reason} is not allowed for ${c.isCa ? 'a CA' : 'an end-entity'} certificate (BR 4.9.1, 7.2.2)`, {
        hint: `Use one of: ${allowed.join(', ')}.`,
      });
    }
    const r = ca.store.revokeCertificate(
      c.id,
      compromisedAt ?? now,
      reason,
      { event: 'certificate.revoked', ca: issuerName, data: { serial: c.serialHex, reason, revocationDate: now.toISOString(), ...(compromisedAt ? { invalidityDate: compromisedAt.toISOString() } : {}) } },
      now,
    );
    println(ctx, `revoked ${r.serialHex} (${r.subject}) of ${issuerName}: ${reason}`);
    println(ctx, `  publish it: ca crl --issuer ${issuerName}`);
  });
}
