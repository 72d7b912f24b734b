import type { CommandModule } from 'yargs';
import type { DriverCardSession } from '../../../card/card-session-impl.js';
import { usageError } from '../../cli-error.js';
import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { eprintln, println, type CliContext } from '../../context.js';
import { obtainNewPin, obtainPin, soPinBytes } from '../../pin-input.js';
import { withCardSelection } from './card-options.js';
import { guardSoPin } from '../../so-pin-guard.js';
import { authenticateAdminIfNeeded, withMgmtKey, type MgmtKeyArgs } from '../../mgmt-key-input.js';

interface InitArgs extends CardGlobalArgs, MgmtKeyArgs {
  label: string;
  'so-pin-file'?: string;
  'pin-file'?: string;
  retries: number;
  'allow-last-pin-try': boolean;
  'dkek-shares'?: number;
}

/**
 * `ca card init`: initialise (wipe!) a SmartCard-HSM with a label, user PIN and retry count.
 * The SO-PIN is the card's current initialisation code (16 hex digits).
 */
export function cardInitCommand(ctx: CliContext): CommandModule<object, InitArgs> {
  return {
    command: 'init',
    describe: 'Initialise a card: label, new user PIN, PIN retries (ERASES every key on the card)',
    builder: (y) =>
      withMgmtKey(withCardSelection(y))
        .option('label', { type: 'string', demandOption: true, describe: 'token label written to TokenInfo' })
        .option('so-pin-file', { type: 'string', describe: 'SO-PIN (16 hex digits) from the first line of FILE; PIV: the NEW PUK (6–8 characters); default: prompt' })
        .option('pin-file', { type: 'string', describe: 'new user PIN (6–16 characters) from the first line of FILE; default: prompt twice' })
        .option('retries', { type: 'number', default: 3, describe: 'user PIN tries before it blocks (1–15)' })
        .option('allow-last-pin-try', { type: 'boolean', default: false, describe: 'spend the last SO-PIN try without the typed confirmation' })
        .option('dkek-shares', { type: 'number', describe: 'number of DKEK shares for key backup (see docs/key-custody.md); default: none' })
        .example('$0 card init --label "Root CA 2026" --reader "Virtual PCD 2 00 00"', 'prompts for the SO-PIN and the new user PIN') as never,
    handler: async (args) => {
      if (!Number.isInteger(args.retries) || args.retries < 1 || args.retries > 15) throw usageError('--retries must be 1..15');
      if (args.label.length === 0 || args.label.length > 32) throw usageError('--label must be 1..32 characters');
      const shares = args['dkek-shares'];
      if (shares !== undefined && (!Number.isInteger(shares) || shares < 1 || shares > 16)) throw usageError('--dkek-shares must be 1..16');
      await withCardService(ctx, args, async (service) => {
        const s = await service.open(cardSelector(args));
        try {
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
    },
  };
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
