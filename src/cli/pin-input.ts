import { readFileSync } from 'node:fs';
import type { CardSelector, PinStatus } from '../card/card-service.js';
import type { DriverCardSession } from '../card/card-session-impl.js';
import { PinError } from '../card/errors.js';
import type { PcscCardService } from '../card/pcsc-card-service.js';
import { CliError } from './cli-error.js';
import { eprintln, type CliContext } from './context.js';

/**
 * PIN entry for every command that talks to a card. PINs are read into Buffers (never strings),
 * never come from argv, and are wiped with `fill(0)` as soon as they have been sent.
 */

/** First line of `file` (without CR/LF) as a Buffer; the file's bytes are wiped from memory. */
export function readPinFile(file: string, what = 'PIN'): Buffer {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new CliError('PIN_FILE_UNREADABLE', `cannot read the ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'Check the path and its permissions (it should be readable only by you: chmod 600).',
    });
  }
  let end = raw.indexOf(0x0a);
  if (end < 0) end = raw.length;
  if (end > 0 && raw[end - 1] === 0x0d) end--;
  const pin = Buffer.alloc(end);
  raw.copy(pin, 0, 0, end);
  raw.fill(0);
  if (pin.length === 0) throw new CliError('PIN_FILE_EMPTY', `the ${what} file ${file} is empty`, { hint: `Put the ${what} on the first line.` });
  return pin;
}

/** Read one line from the TTY without echo (raw mode). Ctrl-C aborts. */
export function promptHidden(ctx: CliContext, prompt: string): Promise<Buffer> {
  const stdin = ctx.stdin;
  if (!stdin.isTTY || typeof stdin.setRawMode !== 'function') {
    return Promise.reject(
      new CliError('PIN_INPUT_UNAVAILABLE', `cannot ask for the ${prompt.replace(/:\s*$/, '')}: standard input is not a terminal`, {
        hint: 'Run the command in a terminal, or pass --pin-file / --so-pin-file for automation.',
      }),
    );
  }
  ctx.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(64);
    let len = 0;
    const done = (err?: Error): void => {
      stdin.setRawMode!(false);
      stdin.removeListener('data', onData);
      stdin.pause();
      ctx.stderr.write('\n');
      if (err) {
        buf.fill(0);
        reject(err);
      } else {
        const out = Buffer.alloc(len);
        buf.copy(out, 0, 0, len);
        buf.fill(0);
        resolve(out);
      }
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // Wipe the chunk on every path: it usually holds the whole PIN *and* the Enter key, and
      // the early returns below used to skip the wipe.
      try {
        for (const b of bytes) {
          if (b === 0x03) return done(new CliError('USAGE_ABORTED', 'aborted by the operator'));
          if (b === 0x0d || b === 0x0a) return done();
          if (b === 0x7f || b === 0x08) {
            if (len > 0) buf[--len] = 0;
            continue;
          }
          if (len === buf.length) {
            const bigger = Buffer.alloc(buf.length * 2);
            buf.copy(bigger);
            buf.fill(0);
            buf = bigger;
          }
          buf[len++] = b;
        }
      } finally {
        bytes.fill(0);
      }
    };
    stdin.setRawMode!(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/** Read one visible line (for typed confirmations). */
export function promptLine(ctx: CliContext, prompt: string): Promise<string> {
  if (!ctx.stdin.isTTY) return Promise.resolve('');
  ctx.stderr.write(prompt);
  return new Promise((resolve) => {
    let acc = '';
    const onData = (c: Buffer | string): void => {
      acc += c.toString();
      const i = acc.indexOf('\n');
      if (i >= 0) {
        ctx.stdin.removeListener('data', onData);
        ctx.stdin.pause();
        resolve(acc.slice(0, i).replace(/\r$/, ''));
      }
    };
    ctx.stdin.resume();
    ctx.stdin.on('data', onData);
  });
}

/** A PIN from `--pin-file` or the no-echo prompt. */
export async function obtainPin(ctx: CliContext, o: { file: string | undefined; prompt: string; what?: string }): Promise<Buffer> {
  return o.file !== undefined ? readPinFile(o.file, o.what) : promptHidden(ctx, o.prompt);
}

/** A new PIN: from a file, or typed twice. */
export async function obtainNewPin(ctx: CliContext, o: { file: string | undefined; what: string }): Promise<Buffer> {
  if (o.file !== undefined) return readPinFile(o.file, o.what);
  const a = await promptHidden(ctx, `New ${o.what}: `);
  const b = await promptHidden(ctx, `Repeat the new ${o.what}: `);
  const same = a.equals(b);
  b.fill(0);
  if (!same) {
    a.fill(0);
    throw new CliError('PIN_MISMATCH', `the two ${o.what} entries differ`, { hint: 'Run the command again.' });
  }
  return a;
}

/**
 * SO-PIN as the card wants it: 16 hexadecimal digits → 8 bytes (OpenSC `sc-hsm-tool`).
 * The text buffer is wiped.
 */
export function soPinBytes(text: Buffer): Buffer {
  // Decoded byte by byte so the SO-PIN never becomes a JS string (strings cannot be wiped).
  const nibble = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);
  const out = Buffer.alloc(8);
  let ok = text.length === 16;
  for (let i = 0; ok && i < 8; i++) {
    const hi = nibble(text[2 * i]!);
    const lo = nibble(text[2 * i + 1]!);
    if (hi < 0 || lo < 0) ok = false;
    else out[i] = (hi << 4) | lo;
  }
  text.fill(0);
  if (!ok) {
    out.fill(0);
    throw new CliError('PIN_SO_FORMAT', 'the SO-PIN must be exactly 16 hexadecimal digits', {
      hint: 'Example format: 0123456789ABCDEF (the factory default of a new SmartCard-HSM is documented by the vendor).',
    });
  }
  return out;
}

export const LAST_TRY_CONFIRMATION = 'spend the last try';

export interface VerifiedSessionOptions {
  readonly service: PcscCardService;
  readonly selector: CardSelector;
  readonly pinFile: string | undefined;
  /** Spend the last PIN try without the typed confirmation (explicit flag; `--yes` never implies it). */
  readonly allowLastPinTry: boolean;
}

/**
 * Open the selected card and verify its user PIN, for every command that signs or writes:
 * shows tries left before verifying; with one try left refuses unless the operator types the
 * confirmation (or passed `--allow-last-pin-try`); a blocked PIN says how to unblock.
 */
export async function obtainVerifiedSession(ctx: CliContext, o: VerifiedSessionOptions): Promise<DriverCardSession> {
  const session = await o.service.open(o.selector);
  try {
    await verifyOnSession(ctx, session, o);
    return session;
  } catch (e) {
    await session.close();
    throw e;
  }
}

export async function verifyOnSession(
  ctx: CliContext,
  session: DriverCardSession,
  o: { pinFile: string | undefined; allowLastPinTry: boolean; pin?: Buffer; status?: PinStatus },
): Promise<void> {
  // `status`: the caller's query of this session a moment ago (one APDU less per command).
  const status = o.status ?? (await session.pinStatus());
  const card = `card ${session.info.serial} in "${session.info.reader}"`;
  if (status.state === 'verified') return;
  if (status.state === 'not-initialized') {
    throw new PinError('PIN_NOT_INITIALIZED', `${card} is not initialised`, { hint: 'Initialise it with `ca card init --label LABEL`.' });
  }
  if (status.state === 'blocked') {
    throw new PinError('PIN_BLOCKED', `the user PIN of ${card} is blocked`, {
      triesLeft: 0,
      hint: 'Unblock it with the SO-PIN (PIV: the PUK): `ca card pin unblock --card SERIAL` (see docs/card-setup.md, docs/piv.md).',
    });
  }
  if (status.state === 'transport') {
    throw new PinError('PIN_TRANSPORT', `${card} still has its transport PIN`, { hint: 'Set a PIN first with `ca card pin change`.' });
  }
  const tries = status.triesLeft;
  eprintln(ctx, `${card}: user PIN, ${tries ?? 'unknown'} ${tries === 1 ? 'try' : 'tries'} left`);
  if (tries === 1 && !o.allowLastPinTry) {
    const typed = ctx.stdin.isTTY
      ? await promptLine(ctx, `Only ONE try is left; a wrong PIN blocks the card. Type "${LAST_TRY_CONFIRMATION}" to continue: `)
      : '';
    if (typed !== LAST_TRY_CONFIRMATION) {
      throw new PinError('PIN_LAST_TRY', `refusing to spend the last PIN try of ${card}`, {
        triesLeft: 1,
        hint: 'Make sure you have the right PIN, then re-run in a terminal and type the confirmation, or pass --allow-last-pin-try.',
      });
    }
  }
  // A PIN passed in belongs to the caller (who wipes it); one read here is wiped here.
  const pin = o.pin ?? (await obtainPin(ctx, { file: o.pinFile, prompt: 'User PIN: ', what: 'PIN' }));
  try {
    await session.verifyPin(pin);
  } finally {
    if (!o.pin) pin.fill(0);
  }
}
