import { refuseInCeremonyBuild } from '../common/build-flavour.js';
import { existsSync } from 'node:fs';
import { Settings as LuxonSettings } from 'luxon';
import { join, resolve } from 'node:path';
import type { HomeArgs } from './command-options.js';
import { CardcaError } from '../common/cardca-error.js';
import { checkedClock, fixedClock, isoUtc, LUXON_UTC, parseFakeNow, type Clock } from '../ca/clock.js';
import { readHomeMode, type HomeMode } from './home-mode.js';
import { assertProfilesPinned } from './profile-pin.js';
import { CRASH_POINTS, type CrashHook } from '../ca/crash-points.js';
import type { ProfileSet } from '../ca/profile/profile-types.js';
import type { DriverCardSession } from '../card/card-session-impl.js';
import { CardError } from '../card/errors.js';
import type { PcscCardService } from '../card/pcsc-card-service.js';
import { needsMigration, openDatabase } from '../db/database.js';
import { DbError } from '../db/db-error.js';
import { acquireLock, type HeldLock } from '../db/lock-file.js';
import { SqliteStore } from '../db/sqlite-store.js';
import { eprintln, type CliContext } from './context.js';
import { promptLine, verifyOnSession } from './pin-input.js';

/**
 * Composition root of the CA commands: where the CA home is, opening the database (lock,
 * pragmas, migrations, startup recovery), loading the home's profiles, the clock, and finding
 * the card bound to a CA among the readers.
 */
export const DB_FILE = 'ca.db';
export const PROFILES_DIR = 'profiles';
export const LOCK_FILE = 'ca.lock';

export { withHome, withSigningCard, type HomeArgs, type SigningCardArgs } from './command-options.js';

export function resolveHome(ctx: CliContext, args: HomeArgs): string {
  return resolve(ctx.cwd, args.home ?? ctx.env['CA_HOME'] ?? 'ca-data');
}

export function cliClock(ctx: CliContext): Clock {
  return { now: () => ctx.now() };
}

export interface CaContext {
  readonly home: string;
  /** Rehearsal or production, home id, clock-jump limit (home-mode.ts). */
  readonly mode: HomeMode;
  readonly store: SqliteStore;
  readonly profiles: ProfileSet;
  readonly clock: Clock;
  /** Kill-point hook for the crash tests; undefined unless CA_CRASHPOINT is set. */
  readonly crashHook: CrashHook | undefined;
}

/**
 * `CA_CRASHPOINT=<name>[@N]` (crash tests only, ca-invariants.md §3.2): SIGKILL this process at that
 * named point of the issuance/CRL cycle, the way a power cut or `kill -9` would stop it. SIGKILL
 * runs no handler and writes nothing, so the switch can only stop work, never reveal anything.
 * Unset (every normal run) → no hook at all.
 */
export function crashHookFromEnv(env: Readonly<Record<string, string | undefined>>): CrashHook | undefined {
  const spec = env['CA_CRASHPOINT'];
  if (spec === undefined || spec === '') return undefined;
  // NAME@N: the Nth time this process reaches the point (a batch killed after its 4th certificate).
  const m = /^([a-z-]+)(?:@([1-9]\d*))?$/.exec(spec);
  const want = m?.[1];
  if (!want || !(CRASH_POINTS as readonly string[]).includes(want)) {
    throw new CardcaError('CRASHPOINT_UNKNOWN', `CA_CRASHPOINT=${spec} names no crash point`, { hint: `Unset CA_CRASHPOINT, or use one of: ${CRASH_POINTS.join(', ')} (optionally @N for the Nth time).` });
  }
  const nth = Number(m[2] ?? '1');
  let seen = 0;
  return (point) => {
    if (point === want && ++seen === nth) process.kill(process.pid, 'SIGKILL');
  };
}

/**
 * The clock of a command in this home. A production home takes the system clock (or the
 * context's, in tests that run `main` in-process) and ignores `CA_FAKE_NOW`, saying so; only a
 * rehearsal home honours it, strictly parsed, and then every audit record says `fakeClock`
 * (issue #8 item 4). Every reading is checked to be a real date.
 */
export function homeClock(ctx: CliContext, mode: HomeMode, store?: SqliteStore): Clock {
  const fake = ctx.env['CA_FAKE_NOW'];
  if (fake === undefined || fake === '') return checkedClock(cliClock(ctx), 'system clock');
  if (!mode.rehearsal) {
    eprintln(ctx, 'warning: CA_FAKE_NOW is ignored: this is a production CA home (made without `ca init --rehearsal`); the time comes from the system clock');
    return checkedClock(cliClock(ctx), 'system clock');
  }
  const at = parseFakeNow(fake);
  if (store) store.auditTag = { fakeClock: isoUtc(at) };
  return checkedClock(fixedClock(at), `CA_FAKE_NOW=${fake}`);
}

/**
 * The `profiles` of a command that said it reads none (`withCa` with `profiles: false`, e.g.
 * `ca list`): any use is a programming error, caught by the command's own tests.
 */
function profilesNotLoaded(command: string): ProfileSet {
  const refuse = (): never => {
    throw new Error(`internal error: ca ${command} opened the CA home without its profiles (withCa profiles: false) but used them`);
  };
  return {
    get dir(): string {
      return refuse();
    },
    get profiles(): ReadonlyMap<string, never> {
      return refuse();
    },
    get cas(): readonly never[] {
      return refuse();
    },
    profile: refuse,
    leafProfile: refuse,
    caProfile: refuse,
    ca: refuse,
  };
}

/**
 * Open the CA home for a command. `write`: take the exclusive lock (one writing `ca` process at
 * a time) and recover rows a crash left `reserved`. Refusals (`CardcaError`) are written to the
 * audit log before they propagate, so a refused command leaves exactly that trace.
 * `profiles: false`: the command reads no profile (`ca list`), so they are not parsed and the
 * profile loader (with the ASN.1 schema library it encodes extensions with) is not even
 * imported; the pin check still runs (`profilesCheck`), so a changed profile set is refused by
 * every command alike.
 */
export async function withCa<T>(
  ctx: CliContext,
  args: HomeArgs,
  o: { command: string; write: boolean; profilesCheck?: false; profiles?: false },
  fn: (ca: CaContext) => Promise<T>,
): Promise<T> {
  // luxon's own arithmetic (DateTime.plus makes Durations without options) would otherwise ask
  // ICU for the system locale once per process: 30–60 ms of every `ca sign` (docs/benchmarks.md).
  // Every time the CA handles is machine text in UTC (ca/clock.ts LUXON_UTC), so no command wants it.
  LuxonSettings.defaultLocale = LUXON_UTC.locale;
  const home = resolveHome(ctx, args);
  const dbPath = join(home, DB_FILE);
  if (!existsSync(dbPath)) {
    throw new DbError('HOME_NOT_FOUND', `no CA database at ${dbPath}`, { hint: 'Run `ca init` (or set --home / CA_HOME to the CA home).' });
  }
  const crashHook = crashHookFromEnv(ctx.env);
  let lock: HeldLock | undefined;
  if (o.write || needsMigration(dbPath)) lock = await acquireLock(join(home, LOCK_FILE), Number(ctx.env['CA_LOCK_TIMEOUT_MS'] ?? 10_000));
  try {
    const db = openDatabase(dbPath);
    const store = new SqliteStore(db);
    try {
      const mode = readHomeMode(store);
      if (mode.rehearsal) refuseInCeremonyBuild(`the rehearsal CA home ${home}`);
      const clock = homeClock(ctx, mode, store);
      if (o.write) {
        const r = store.recoverReserved(clock.now());
        if (r.certificates + r.crls > 0) {
          eprintln(
            ctx,
            `warning: recovered ${r.certificates} certificate and ${r.crls} CRL reservation(s) left by an interrupted run: ${r.outcomeUnknown} outcome_unknown (the card may have signed; listed on the next CRL), ${r.abandoned} abandoned (the card was never asked; serial burnt, the CSR can be signed again)`,
          );
        }
      }
      if (o.profilesCheck !== false) assertProfilesPinned(store, home, join(home, PROFILES_DIR));
      const profiles = o.profiles === false ? profilesNotLoaded(o.command) : (await import('../ca/profile/load-profiles.js')).loadProfiles(join(home, PROFILES_DIR));
      try {
        return await fn({ home, mode, store, profiles, clock, crashHook });
      } catch (e) {
        if (o.write && e instanceof CardcaError) {
          try {
            store.audit({ event: 'command.refused', data: { command: o.command, code: e.code, message: e.message } }, clock.now());
          } catch {
            /* the refusal itself stands; the audit append failing is reported by `ca db check` */
          }
        }
        throw e;
      }
    } finally {
      db.close();
    }
  } finally {
    lock?.release();
  }
}

/**
 * Emulated cards belong to rehearsal homes only (issue #18 item 12). A card is taken for an
 * emulator when its driver says so (SmartCard-HSM: the device certificate chain of the cardca
 * emulator) or when it sits in a vsmartcard virtual reader (vpcd's readers are "Virtual PCD";
 * card-protocols.md §5: never on the ceremony host).
 */
export function emulationEvidence(info: { serial: string; reader: string; emulated?: string }): string | undefined {
  const why: string[] = [];
  if (info.emulated) why.push(info.emulated);
  if (/^Virtual PCD\b/i.test(info.reader)) why.push(`it sits in "${info.reader}", a vsmartcard virtual reader (vpcd) that only software cards use`);
  return why.length ? why.join('; and ') : undefined;
}

export function assertNotEmulated(info: { serial: string; reader: string; emulated?: string }, role: string): void {
  const why = emulationEvidence(info);
  if (!why) return;
  throw new CardError('CARD_EMULATED', `card ${info.serial} (${role}) in "${info.reader}" is an emulated test card: ${why}`, {
    hint: 'This is a production CA home: use the real card. To rehearse with emulated cards, make a separate home with `ca init --rehearsal --home DIR`.',
    details: { serial: info.serial, reader: info.reader, role },
  });
}


/**
 * A card wanted by serial, opened and PIN-verified on demand. When it is in no reader, an
 * interactive operator is asked to insert it (other slots are released first, so one reader
 * can serve both cards of a ceremony by swapping); a non-interactive run fails `CARD_NOT_FOUND`
 * naming the serial.
 */
export class CardSlot {
  private session: DriverCardSession | undefined;
  triesLeftBefore: number | null = null;

  constructor(
    private readonly ctx: CliContext,
    private readonly service: PcscCardService,
    readonly role: string,
    readonly serial: string | undefined,
    private readonly o: {
      reader?: string | undefined;
      pinFile?: string | undefined;
      allowLastPinTry?: boolean;
      others?: () => CardSlot[];
      /** Run once on the verified session (e.g. PIV management-key authentication and key placement). */
      prepare?: (s: DriverCardSession) => Promise<void>;
      /** A production home: refuse an emulated card with `CARD_EMULATED` before any PIN. */
      refuseEmulated?: boolean;
    },
  ) {}

  get open(): DriverCardSession | undefined {
    return this.session;
  }

  async get(): Promise<DriverCardSession> {
    if (this.session) return this.session;
    for (let attempt = 0; ; attempt++) {
      const s = await this.find();
      if (s) {
        try {
          if (this.o.refuseEmulated) assertNotEmulated(s.info, this.role);
          const st = await s.pinStatus();
          this.triesLeftBefore ??= st.triesLeft ?? null;
          await verifyOnSession(this.ctx, s, { pinFile: this.o.pinFile, allowLastPinTry: this.o.allowLastPinTry === true, status: st });
          await this.o.prepare?.(s);
        } catch (e) {
          await s.close();
          throw e;
        }
        this.session = s;
        return s;
      }
      const want = this.serial ? `card ${this.serial}` : 'a card';
      if (!this.ctx.stdin.isTTY || attempt >= 5) {
        throw new CardError('CARD_NOT_FOUND', `${want} (${this.role}) is not in any reader${this.o.reader ? ` ("${this.o.reader}")` : ''}`, {
          hint: `Insert ${want} and run the command again (see \`ca card list\`).`,
          details: { serial: this.serial, role: this.role },
        });
      }
      for (const other of this.o.others?.() ?? []) await other.release();
      await promptLine(this.ctx, `Insert ${want} (${this.role}) and press Enter: `);
    }
  }

  /** Open the wanted card without touching readers held by other open slots. */
  private async find(): Promise<DriverCardSession | undefined> {
    const busy = new Set((this.o.others?.() ?? []).flatMap((s) => (s.session ? [s.session.info.reader] : [])));
    // --reader names the one reader to use: open it alone, without scanning every reader
    // (pcsc-context.ts: each scanned reader costs pcscd a context and a status thread).
    // A reader that is not there or holds no card is "not in any reader", as with the scan.
    const readers =
      this.o.reader !== undefined
        ? busy.has(this.o.reader)
          ? []
          : [{ name: this.o.reader, single: true }]
        : (await this.service.readers()).filter((r) => r.cardPresent && !busy.has(r.name)).map((r) => ({ name: r.name, single: false }));
    const inUse: string[] = [];
    for (const r of readers) {
      let s: DriverCardSession;
      try {
        s = await this.service.open({ reader: r.name });
      } catch (e) {
        // A card another program holds open may be the one we want: remember it, so the
        // operator hears "busy" rather than "not in any reader".
        if (e instanceof CardcaError && e.code === 'CARD_BUSY') inUse.push(r.name);
        // No pcscd is not "no card": the scan would have said so before any reader was opened.
        if (r.single && e instanceof CardcaError && (e.code === 'PCSC_UNAVAILABLE' || e.code === 'PCSC_TIMEOUT')) throw e;
        continue; // unsupported or unreadable card: not the one we want
      }
      if (this.serial === undefined || s.info.serial === this.serial) {
        if (this.serial === undefined && readers.length > 1) {
          await s.close();
          throw new CardError('CARD_AMBIGUOUS', `${readers.length} readers hold a card`, { hint: 'Choose one with --card SERIAL or --reader NAME.' });
        }
        return s;
      }
      await s.close();
    }
    if (inUse.length > 0) {
      const want = this.serial ? `card ${this.serial}` : 'a card';
      throw new CardError('CARD_BUSY', `${want} (${this.role}) was not found, and the card in ${inUse.map((n) => `"${n}"`).join(', ')} is in use by another program`, {
        hint: 'Wait for the other program (another ca command, OpenSC, pcsc_scan) to release the card, then run the command again.',
        details: { serial: this.serial, role: this.role, readers: inUse },
      });
    }
    return undefined;
  }

  async release(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    await s?.close();
  }
}
