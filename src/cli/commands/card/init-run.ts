import type { DriverCardSession } from '../../../card/card-session-impl.js';
import type { Pkcs15Personalisation } from '../../../card/drivers/card-driver.js';
import { CliError, usageError } from '../../cli-error.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { eprintln, println, type CliContext } from '../../context.js';
import { obtainNewPin, obtainPin, promptLine, soPinBytes } from '../../pin-input.js';
import { guardSoPin } from '../../so-pin-guard.js';
import { authenticateAdminIfNeeded, type MgmtKeyArgs } from '../../mgmt-key-input.js';

export interface InitArgs extends CardGlobalArgs, MgmtKeyArgs {
  label: string;
  'so-pin-file'?: string;
  'pin-file'?: string;
  retries: number;
  'allow-last-pin-try': boolean;
  'dkek-shares'?: number;
  'current-so-pin-file'?: string;
  yes: boolean;
}

/** `cardInitCommand`'s handler (the definition is init.ts). */
export async function runCardInit(ctx: CliContext, args: InitArgs): Promise<void> {
  if (!Number.isInteger(args.retries) || args.retries < 1 || args.retries > 15) throw usageError('--retries must be 1..15');
  if (args.label.length === 0 || args.label.length > 32) throw usageError('--label must be 1..32 characters');
  const shares = args['dkek-shares'];
  if (shares !== undefined && (!Number.isInteger(shares) || shares < 1 || shares > 16)) throw usageError('--dkek-shares must be 1..16');
  await withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    try {
      const p15 = s.capabilities.pkcs15Personalisation;
      if (p15) {
        if (shares !== undefined) throw usageError(`--dkek-shares applies to the SmartCard-HSM, not to card ${s.info.serial} (${s.info.driver})`);
        await initPkcs15(ctx, s, args, p15);
        return;
      }
      if (s.capabilities.unblockCredential === 'puk') {
        await initPuk(ctx, s, args);
        return;
      }
      if (s.info.initialized) eprintln(ctx, `warning: card ${s.info.serial} is initialised; re-initialising erases every key on it`);
      await guardSoPin(ctx, s, { allowLastTry: args['allow-last-pin-try'] });
      const so = soPinBytes(await obtainPin(ctx, { file: args['so-pin-file'], prompt: 'SO-PIN (16 hex digits): ', what: 'SO-PIN' }));
      let pin: Buffer | undefined;
      try {
        pin = await obtainNewPin(ctx, { file: args['pin-file'], what: 'user PIN' });
        if (pin.length < 6 || pin.length > 16) throw usageError('the user PIN must be 6 to 16 characters');
        await s.initialize({ soPin: so, userPin: pin, retries: args.retries, label: args.label, ...(shares === undefined ? {} : { dkekShares: shares }) });
      } finally {
        so.fill(0);
        pin?.fill(0);
      }
      println(ctx, `initialised card ${s.info.serial} in "${s.info.reader}": label "${args.label}", ${args.retries} PIN tries${shares === undefined ? '' : `, ${shares} DKEK shares to import`}`);
    } finally {
      await s.close();
    }
  });
}

/**
 * PIV: factory PIN/PUK replaced by the operator's, PIN retries set, CHUID and CCC written, with
 * the management key authenticated. Keys already in slots stay (PIV cannot delete keys).
 */
async function initPuk(ctx: CliContext, s: DriverCardSession, args: InitArgs): Promise<void> {
  await authenticateAdminIfNeeded(ctx, s, args['mgmt-key-file']);
  let puk: Buffer | undefined;
  let pin: Buffer | undefined;
  try {
    puk = await obtainNewPin(ctx, { file: args['so-pin-file'], what: 'PUK' });
    if (puk.length < 6 || puk.length > 8) throw usageError('a PIV PUK must be 6 to 8 characters');
    pin = await obtainNewPin(ctx, { file: args['pin-file'], what: 'user PIN' });
    if (pin.length < 6 || pin.length > 8) throw usageError('a PIV PIN must be 6 to 8 characters');
    await s.initialize({ soPin: puk, userPin: pin, retries: args.retries, label: args.label });
  } finally {
    puk?.fill(0);
    pin?.fill(0);
  }
  println(ctx, `initialised PIV card ${s.info.serial} in "${s.info.reader}": new PIN and PUK, ${args.retries} tries each, CHUID and CCC written`);
  eprintln(ctx, 'Next: change the factory management key (see docs/piv.md) and keep it in custody.');
}

const ERASE_CONFIRMATION = (serial: string): string => `erase card ${serial}`;

/**
 * A PKCS#15 file-system card (MyEID): the layout of OpenSC's pkcs15-init with the driver's profile
 * (pkcs15+onepin), finalised. A card that is already personalised is erased only after the typed
 * confirmation (or --yes) and, when finalised, with its current SO PIN (guarded like the
 * SmartCard-HSM's); every PIN is read and checked before the card is touched.
 */
async function initPkcs15(ctx: CliContext, s: DriverCardSession, args: InitArgs, p: Pkcs15Personalisation): Promise<void> {
  if (args.retries > p.maxRetries) throw usageError(`--retries must be 1..${p.maxRetries} on card ${s.info.serial} (${s.info.driver})`);
  const card = `card ${s.info.serial} in "${s.info.reader}"`;
  let currentSoPin: Buffer | undefined;
  let puk: Buffer | undefined;
  let pin: Buffer | undefined;
  try {
    if (s.info.initialized) {
      eprintln(ctx, `${card} is personalised${s.info.label === undefined ? '' : ` (label "${s.info.label}")`}: initialising erases every key, certificate and PIN on it.`);
      if (!args.yes) {
        const phrase = ERASE_CONFIRMATION(s.info.serial);
        const typed = ctx.stdin.isTTY ? await promptLine(ctx, `Type "${phrase}" to continue: `) : '';
        if (typed.trim() !== phrase) {
          throw new CliError('USAGE_CONFIRMATION_REQUIRED', `erasing ${card} needs the typed confirmation; nothing was changed`, {
            hint: `Run it in a terminal and type "${phrase}", or pass --yes in a script.`,
          });
        }
      }
      await guardSoPin(ctx, s, { allowLastTry: args['allow-last-pin-try'] });
      currentSoPin = await obtainPin(ctx, { file: args['current-so-pin-file'], prompt: `Current SO PIN of ${card} (${p.profile}: its user PIN): `, what: 'current SO PIN' });
    } else if (args['current-so-pin-file'] !== undefined) {
      // A card with a PKCS#15 structure but no user PIN (half personalised) may still be finalised.
      currentSoPin = await obtainPin(ctx, { file: args['current-so-pin-file'], prompt: '', what: 'current SO PIN' });
    }
    puk = await obtainNewPin(ctx, { file: args['so-pin-file'], what: 'PUK' });
    if (puk.length < p.pukLength.min || puk.length > p.pukLength.max) throw usageError(`the PUK must be ${p.pukLength.min} to ${p.pukLength.max} characters on card ${s.info.serial}`);
    pin = await obtainNewPin(ctx, { file: args['pin-file'], what: 'user PIN' });
    if (pin.length < p.pinLength.min || pin.length > p.pinLength.max) throw usageError(`the user PIN must be ${p.pinLength.min} to ${p.pinLength.max} characters on card ${s.info.serial}`);
    await s.initialize({
      soPin: puk,
      userPin: pin,
      retries: args.retries,
      label: args.label,
      now: ctx.now(),
      eraseExisting: s.info.initialized || args.yes,
      ...(currentSoPin ? { currentSoPin } : {}),
    });
  } finally {
    currentSoPin?.fill(0);
    puk?.fill(0);
    pin?.fill(0);
  }
  println(ctx, `initialised card ${s.info.serial} in "${s.info.reader}" as OpenSC's pkcs15-init ${p.profile} would, finalised: label "${args.label}", user PIN (auth-id 01) with ${args.retries} tries, its PUK; the SO PIN is the user PIN`);
}
