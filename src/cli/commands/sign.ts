import { readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { isIP } from 'node:net';
import type { CommandModule } from 'yargs';
import { pemEncode } from '../../ca/chain.js';
import { checkCommandClock, withConfirmClock, type ConfirmClockArgs } from '../clock-check.js';
import { checkCsrKeyPolicy, checkKeyNotReused } from '../../ca/csr/check-csr.js';
import { certificateContent } from '../../ca/cert/certificate-content.js';
import { toHex } from '../../common/hex.js';
import { sha256 } from '../../ca/issuance.js';
import { parseCsr } from '../../ca/csr/parse-csr.js';
import { CsrError } from '../../ca/errors.js';
import { issueCertificate } from '../../ca/issuance.js';
import type { SanEntry } from '../../ca/x509/extensions.js';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { withCa, withHome, withSigningCard, type HomeArgs, type SigningCardArgs } from '../ca-context.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { issuingCa, signedByCard, withIssuerSigner } from './ca-signing.js';

interface SignArgs extends HomeArgs, SigningCardArgs, ConfirmClockArgs {
  csr: string[];
  issuer: string;
  profile?: string;
  days?: number;
  'not-after'?: string;
  san?: string[];
  out?: string;
  json: boolean;
  reissue: boolean;
}

/** `--san dns:a.example.test`, `ip:10.0.0.1`, `email:x@y`, `uri:…`; a bare value is an IP or DNS name. */
export function parseSan(s: string): SanEntry {
  const m = /^(dns|ip|email|uri):(.+)$/i.exec(s);
  if (m) return { type: m[1]!.toLowerCase() as SanEntry['type'], value: m[2]! };
  return isIP(s) ? { type: 'ip', value: s } : { type: 'dns', value: s };
}

function outputPath(csrFile: string, out: string | undefined, many: boolean): string {
  const name = `${basename(csrFile, extname(csrFile))}.crt`;
  if (out === undefined) return join(resolve(csrFile, '..'), name);
  let isDir = out.endsWith('/') || many;
  try {
    isDir ||= statSync(out).isDirectory();
  } catch {
    /* does not exist: a file name unless it ends with / or several CSRs are signed */
  }
  return isDir ? join(out, name) : out;
}

/** `ca sign FILE.csr... --issuer NAME`: the issuance cycle for each CSR, one card session. */
export function signCommand(ctx: CliContext): CommandModule<object, SignArgs> {
  return {
    command: 'sign <csr..>',
    describe: 'Issue certificates from CSRs (content from the profile; the card signs)',
    builder: (y) =>
      withConfirmClock(withSigningCard(withHome(y)))
        .positional('csr', { type: 'string', array: true, describe: 'PKCS#10 request files (PEM or DER)' })
        .option('issuer', { type: 'string', demandOption: true, describe: 'issuing CA name' })
        .option('profile', { type: 'string', describe: "certificate profile (default: the issuer's first leaf profile)" })
        .option('days', { type: 'number', describe: 'validity in days (capped by the profile)' })
        .option('not-after', { type: 'string', describe: 'explicit notAfter (ISO 8601)' })
        .option('san', { type: 'string', array: true, describe: 'subjectAltName (dns:…, ip:…, email:…, uri:…); replaces the CSR SANs' })
        .option('out', { type: 'string', describe: 'output file (one CSR) or directory; default: next to each CSR as NAME.crt' })
        .option('json', { type: 'boolean', default: false, describe: 'print the issued certificates as JSON' })
        .option('reissue', {
          type: 'boolean',
          default: false,
          describe: 'sign again (new serial) a CSR whose earlier signing ended outcome_unknown (that serial stays on the CRL)',
        })
        .conflicts('days', 'not-after')
        .example('$0 sign web.csr --issuer servers --profile tls-server', 'issue web.crt') as never,
    handler: async (args) =>
      withCa(ctx, args, { command: `sign --issuer ${args.issuer}`, write: true }, async (ca) => {
        checkCommandClock(ca, args, 'sign'); // before any card or PIN
        const issuer = issuingCa(ca, args.issuer);
        const issuerProfile = issuer.info.profile;
        const profileName = args.profile ?? issuerProfile.issues.find((p) => ca.profiles.profile(p).kind === 'leaf');
        if (!profileName) throw usageError(`CA ${args.issuer} issues no leaf profile`, 'Sub-CAs are made with `ca ceremony subca`.');
        const profile = ca.profiles.leafProfile(profileName);
        const many = args.csr.length > 1;
        const validity = args.days !== undefined ? { days: args.days } : args['not-after'] ? { notAfter: new Date(args['not-after']) } : undefined;
        if (validity?.notAfter && Number.isNaN(validity.notAfter.getTime())) throw usageError(`--not-after ${args['not-after']} is not a date`);
        const sanOverride = args.san?.map(parseSan);
        if (sanOverride && many) throw usageError('--san applies to one CSR only', 'Sign CSRs that need different SANs one at a time.');

        // Every CSR is checked before the card is touched: bad input changes nothing.
        const jobs = args.csr.map((file) => {
          let bytes: Buffer;
          try {
            bytes = readFileSync(file);
          } catch (e) {
            throw new CsrError('CSR_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'Check the path.' });
          }
          const text = bytes.includes('-----BEGIN') ? bytes.toString('latin1') : new Uint8Array(bytes);
          let csr;
          try {
            csr = parseCsr(text);
            checkCsrKeyPolicy(csr);
          } catch (e) {
            if (e instanceof Error) e.message = `${file}: ${e.message}`;
            throw e;
          }
          // A re-run after a crash (issue #8 item 8): this exact request may already have a
          // certificate from this issuer (write it out again), or a serial whose outcome is unknown.
          const before = ca.store.certificatesForRequest(issuer.ca.name, sha256(csr.der));
          const done = before.find((c) => c.status === 'issued');
          const unknown = before.filter((c) => c.status === 'outcome_unknown' && !c.revocation);
          return { file, csr, out: outputPath(file, args.out, many), done, unknown };
        });

        // Policy, validity and duplicate keys too, for the whole batch, before the card: a batch
        // never stops half-way over something that could have been known up front.
        const seen = new Set<string>();
        for (const job of jobs) {
          const fp = toHex(job.csr.spkiSha256);
          if (seen.has(fp)) throw new CsrError('KEY_DUPLICATE', `${job.file}: the same public key appears twice in this batch`, { hint: 'Every certificate needs its own key.' });
          seen.add(fp);
          if (job.done) continue; // issued before from this very CSR: written out again below
          try {
            checkKeyNotReused(job.csr.spkiSha256, (h) => ca.store.lookupKey(h));
          } catch (e) {
            if (e instanceof Error) e.message = `${job.file}: ${e.message}`;
            throw e;
          }
          try {
            certificateContent({
              issuer: issuer.info,
              profile,
              spki: job.csr.spki,
              subject: job.csr.subject,
              csrSans: job.csr.sans,
              ...(sanOverride ? { sanOverride } : {}),
              ...(validity ? { validity } : {}),
              serial: Uint8Array.of(1),
              now: ca.clock.now(),
            });
          } catch (e) {
            if (e instanceof Error) e.message = `${job.file}: ${e.message}`;
            throw e;
          }
        }

        const t0 = performance.now();
        let cardMs = 0;
        const results: { file: string; out: string; serial: string; subject: string; notAfter: string }[] = [];
        const skipped: { file: string; serials: string[] }[] = [];
        // Nothing to sign (every CSR was done before): no card, no PIN.
        const toSign = jobs.filter((j) => !j.done && (j.unknown.length === 0 || args.reissue));
        for (const [i, job] of jobs.entries()) {
          if (job.done) {
            await writeFileAtomic(job.out, pemEncode(job.done.der!, 'CERTIFICATE'), { mkdirs: true });
            results.push({ file: job.file, out: job.out, serial: job.done.serialHex, subject: job.done.subject, notAfter: job.done.notAfter });
            eprintln(ctx, `[${i + 1}/${jobs.length}] ${basename(job.file)}: already issued by ${issuer.ca.name} as serial ${job.done.serialHex} (${job.done.issuedAt ?? ''}); written again to ${job.out}`);
          } else if (job.unknown.length > 0 && !args.reissue) {
            skipped.push({ file: job.file, serials: job.unknown.map((c) => c.serialHex) });
            eprintln(ctx, `[${i + 1}/${jobs.length}] ${basename(job.file)}: NOT signed: an earlier signing of this CSR ended outcome_unknown (serial ${job.unknown.map((c) => c.serialHex).join(', ')}, listed on the next CRL); --reissue signs it under a new serial`);
          }
        }
        if (toSign.length > 0) await withIssuerSigner(ctx, args, issuer, async (signer, session) => {
          const issuedHere: string[] = [];
          try {
            for (const [i, job] of jobs.entries()) {
              if (!toSign.includes(job)) continue;
              const issued = await issueCertificate(
                { store: ca.store, clock: ca.clock, signer, issuerName: issuer.ca.name, issuer: issuer.info, crashHook: ca.crashHook },
                {
                  profile,
                  spki: job.csr.spki,
                  subject: job.csr.subject,
                  csrSans: job.csr.sans,
                  ...(sanOverride ? { sanOverride } : {}),
                  ...(validity ? { validity } : {}),
                  csrDer: job.csr.der,
                  source: basename(job.file),
                },
              );
              cardMs += issued.signMs;
              await writeFileAtomic(job.out, pemEncode(issued.der, 'CERTIFICATE'), { mkdirs: true });
              results.push({ file: job.file, out: job.out, serial: issued.record.serialHex, subject: issued.record.subject, notAfter: issued.record.notAfter });
              issuedHere.push(issued.record.serialHex);
              if (many || !args.json) eprintln(ctx, `[${i + 1}/${jobs.length}] ${basename(job.file)} → ${job.out} (serial ${issued.record.serialHex})`);
            }
          } finally {
            // Which card signed (also when the batch stopped part-way): a CA key restored from a
            // DKEK backup is on more than one card.
            if (issuedHere.length > 0) {
              const by = signedByCard(issuer, session.info, `${issuedHere.length} certificate(s) of ${issuer.ca.name}`);
              ca.store.audit({ event: 'sign.card', ca: issuer.ca.name, data: { card: by.cardSerial, cardFamily: by.cardFamily, keyId: by.keyId, ...(by.keyRef === undefined ? {} : { keyRef: by.keyRef }), serials: issuedHere } }, ca.clock.now());
            }
          }
        });
        if (skipped.length > 0) {
          for (const r of results) println(ctx, `${r.serial}  ${r.subject}  until ${r.notAfter}  ${r.out}`);
          throw new CsrError('CSR_OUTCOME_UNKNOWN', `${skipped.length} CSR(s) not signed because an earlier signing ended outcome_unknown: ${skipped.map((x) => `${x.file} (serial ${x.serials.join(', ')})`).join('; ')}`, {
            hint: 'Those serials go on the next CRL (`ca crl --issuer ISSUER`). To issue a certificate anyway, run the same command with --reissue (a new serial).',
            details: { skipped },
          });
        }
        if (args.json) println(ctx, JSON.stringify(results, null, 2));
        else for (const r of results) println(ctx, `${r.serial}  ${r.subject}  until ${r.notAfter}  ${r.out}`);
        if (many) eprintln(ctx, `issued ${results.length} certificates in ${((performance.now() - t0) / 1000).toFixed(2)} s (card ${(cardMs / 1000).toFixed(2)} s)`);
      }),
  };
}
