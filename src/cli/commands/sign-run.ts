import { readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { issueBatch, type BatchCsrInput } from '../../ca/batch-issuance.js';
import { pemEncode } from '../../ca/chain.js';
import { CsrError } from '../../ca/errors.js';
import { AtomicFileBatch } from '../../common/atomic-write.js';
import { withCa } from '../ca-context.js';
import { checkCommandClock } from '../clock-check.js';
import { usageError } from '../cli-error.js';
import { eprintln, println, type CliContext } from '../context.js';
import { issuingCa, signedByCard, withIssuerSigner } from './ca-signing.js';
import { parseSan } from '../san-argument.js';
import type { SignArgs } from './sign.js';

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

function readCsrFile(file: string): BatchCsrInput {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CsrError('CSR_UNREADABLE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { hint: 'Check the path.' });
  }
  return { source: file, data: bytes.includes('-----BEGIN') ? bytes.toString('latin1') : new Uint8Array(bytes) };
}

/**
 * Run the batch, then flush its files — also when it failed part-way, so every certificate the
 * database records as issued by this run is on disk before the error is reported. A flush
 * failure after a batch error is said on stderr and the batch's error propagates (the files can
 * be written again by re-running the command).
 */
async function withFilesFlushed<T>(ctx: CliContext, files: FileFlusher, fn: () => Promise<T>): Promise<{ result: T; flushMs: number }> {
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    await files.flush().catch((f: unknown) => eprintln(ctx, `warning: ${(f as Error).message}; run the same command again to write the issued certificates`));
    throw e;
  }
  const t0 = performance.now();
  await files.flush();
  return { result, flushMs: performance.now() - t0 };
}

/**
 * The run's certificate files and the progress lines that name them: a line is printed only
 * once its file is durable under its name, so "[i/n] x.csr → x.crt" on stderr always means the
 * file is there (also after a crash right after the line).
 */
class FileFlusher {
  readonly #files = new AtomicFileBatch();
  readonly #lines: string[] = [];
  constructor(private readonly ctx: CliContext) {}

  async write(path: string, pem: string, line: string | undefined): Promise<void> {
    await this.#files.write(path, pem, { mkdirs: true });
    if (line !== undefined) this.#lines.push(line);
  }

  async flush(): Promise<void> {
    await this.#files.flush();
    for (const l of this.#lines.splice(0)) eprintln(this.ctx, l);
  }
}

/**
 * The handler of `ca sign` (sign.ts holds its definition): options → engine request
 * (src/ca/batch-issuance.ts does every check and the issuance), then files and messages.
 * Loaded only when `ca sign` runs, not for `ca sign --help`.
 */
export async function runSign(ctx: CliContext, args: SignArgs): Promise<void> {
  await withCa(ctx, args, { command: `sign --issuer ${args.issuer}`, write: true }, async (ca) => {
    checkCommandClock(ca, args, 'sign'); // before any card or PIN
    const issuer = issuingCa(ca, args.issuer);
    const profileName = args.profile ?? issuer.info.profile.issues.find((p) => ca.profiles.profile(p).kind === 'leaf');
    if (!profileName) throw usageError(`CA ${args.issuer} issues no leaf profile`, 'Sub-CAs are made with `ca ceremony subca`.');
    const profile = ca.profiles.leafProfile(profileName);
    const many = args.csr.length > 1;
    const validity = args.days !== undefined ? { days: args.days } : args['not-after'] ? { notAfter: new Date(args['not-after']) } : undefined;
    if (validity?.notAfter && Number.isNaN(validity.notAfter.getTime())) throw usageError(`--not-after ${args['not-after']} is not a date`);
    const sanOverride = args.san?.map(parseSan);
    if (sanOverride && many) throw usageError('--san applies to one CSR only', 'Sign CSRs that need different SANs one at a time.');
    const csrs = args.csr.map(readCsrFile);
    const out = new Map(args.csr.map((f) => [f, outputPath(f, args.out, many)]));
    const n = csrs.length;
    const results: { file: string; out: string; serial: string; subject: string; notAfter: string }[] = [];
    const skipped: { file: string; serials: string[] }[] = [];
    const issuedHere: string[] = []; // serials this run had the card sign, for the `sign.card` audit event
    // The certificate files share their fsyncs (common/atomic-write.ts): written as temp files,
    // made durable under their names once per recorded group (onRecorded, while the card signs
    // the next group's first row) and at the end, before any result or success is reported. The
    // database is the record; a file lost to a crash before its flush is written again by the
    // next run (onPlan, "already issued").
    const files = new FileFlusher(ctx);

    const { result, flushMs } = await withFilesFlushed(ctx, files, () => issueBatch(
      { store: ca.store, clock: ca.clock, issuerName: issuer.ca.name, issuer: issuer.info, ...(ca.crashHook ? { crashHook: ca.crashHook } : {}) },
      { profile, csrs, ...(sanOverride ? { sanOverride } : {}), ...(validity ? { validity } : {}), reissue: args.reissue },
      {
        // Before the card: what was issued before is written again, what will not be signed is said.
        onPlan: async (plan) => {
          for (const e of plan.entries) {
            if (e.action === 'already-issued' && e.done) {
              const file = out.get(e.source)!;
              results.push({ file: e.source, out: file, serial: e.done.serialHex, subject: e.done.subject, notAfter: e.done.notAfter });
              await files.write(file, pemEncode(e.done.der!, 'CERTIFICATE'), `[${e.index + 1}/${n}] ${basename(e.source)}: already issued by ${issuer.ca.name} as serial ${e.done.serialHex} (${e.done.issuedAt ?? ''}); written again to ${file}`);
            } else if (e.action === 'skip') {
              await files.flush(); // the lines keep batch order
              skipped.push({ file: e.source, serials: e.unknown.map((c) => c.serialHex) });
              eprintln(ctx, `[${e.index + 1}/${n}] ${basename(e.source)}: NOT signed: an earlier signing of this CSR ended outcome_unknown (serial ${e.unknown.map((c) => c.serialHex).join(', ')}, listed on the next CRL); --reissue signs it under a new serial`);
            }
          }
          await files.flush(); // what was issued before is on disk before the card is opened
        },
        // Only when something is to be signed: otherwise no card and no PIN.
        withSigner: (fn) =>
          withIssuerSigner(ctx, args, issuer, async (signer, session) => {
            try {
              return await fn(signer);
            } finally {
              // Which card signed (also when the batch stopped part-way): a CA key restored from a
              // DKEK backup is on more than one card.
              if (issuedHere.length > 0) {
                const by = signedByCard(issuer, session.info, `${issuedHere.length} certificate(s) of ${issuer.ca.name}`);
                ca.store.audit({ event: 'sign.card', ca: issuer.ca.name, data: { card: by.cardSerial, cardFamily: by.cardFamily, keyId: by.keyId, ...(by.keyRef === undefined ? {} : { keyRef: by.keyRef }), serials: [...issuedHere] } }, ca.clock.now());
              }
            }
          }),
        onIssued: async ({ entry, record, der }) => {
          const file = out.get(entry.source)!;
          results.push({ file: entry.source, out: file, serial: record.serialHex, subject: record.subject, notAfter: record.notAfter });
          issuedHere.push(record.serialHex);
          await files.write(file, pemEncode(der, 'CERTIFICATE'), many || !args.json ? `[${entry.index + 1}/${n}] ${basename(entry.source)} → ${file} (serial ${record.serialHex})` : undefined);
        },
        onRecorded: () => files.flush(),
      },
    ));
    if (skipped.length > 0) {
      for (const r of results) println(ctx, `${r.serial}  ${r.subject}  until ${r.notAfter}  ${r.out}`);
      throw new CsrError('CSR_OUTCOME_UNKNOWN', `${skipped.length} CSR(s) not signed because an earlier signing ended outcome_unknown: ${skipped.map((x) => `${x.file} (serial ${x.serials.join(', ')})`).join('; ')}`, {
        hint: 'Those serials go on the next CRL (`ca crl --issuer ISSUER`). To issue a certificate anyway, run the same command with --reissue (a new serial).',
        details: { skipped },
      });
    }
    if (args.json) println(ctx, JSON.stringify(results, null, 2));
    else for (const r of results) println(ctx, `${r.serial}  ${r.subject}  until ${r.notAfter}  ${r.out}`);
    if (many) {
      const s = (ms: number): string => (ms / 1000).toFixed(3);
      // The final flush is host work of the batch too (the files are part of the job).
      eprintln(ctx, `issued ${results.length} certificates in ${s(result.totalMs + flushMs)} s (card ${s(result.cardMs)} s, card session ${s(result.sessionMs)} s)`);
    }
  });
}
