import { cardSelector, withCardService, type CardGlobalArgs } from '../../card-context.js';
import { println, type CliContext } from '../../context.js';
import { obtainNewPin, obtainPin, soPinBytes, verifyOnSession } from '../../pin-input.js';
import { usageError } from '../../cli-error.js';
import { guardSoPin } from '../../so-pin-guard.js';
import type { DriverCardSession } from '../../../card/card-session-impl.js';
import { authenticateAdminIfNeeded, mgmtKeyBytes } from '../../mgmt-key-input.js';

export interface PinArgs extends CardGlobalArgs {
  action: 'change' | 'unblock' | 'change-puk' | 'change-mgmt-key';
  'mgmt-key-file'?: string;
  'new-mgmt-key-file'?: string;
  'pin-file'?: string;
  'new-pin-file'?: string;
  'new-puk-file'?: string;
  'so-pin-file'?: string;
  'allow-last-pin-try': boolean;
}

/** `cardPinCommand`'s handler (the definition is pin.ts). */
export async function runCardPin(ctx: CliContext, args: PinArgs): Promise<void> {
  return withCardService(ctx, args, async (service) => {
    const s = await service.open(cardSelector(args));
    try {
      if (args.action === 'change') {
        // Verify first (shows tries left, guards the last try), then change in the same session.
        const old = await obtainPin(ctx, { file: args['pin-file'], prompt: 'Current user PIN: ', what: 'PIN' });
        try {
          await verifyOnSession(ctx, s, { pinFile: args['pin-file'], allowLastPinTry: args['allow-last-pin-try'], pin: old });
          const next = await obtainNewPin(ctx, { file: args['new-pin-file'], what: 'user PIN' });
          try {
            checkNewPinLength(s, next);
            await s.changePin(old, next);
          } finally {
            next.fill(0);
          }
        } finally {
          old.fill(0);
        }
        println(ctx, `user PIN of card ${s.info.serial} changed`);
      } else if (args.action === 'change-mgmt-key') {
        await changeMgmtKey(ctx, s, args);
      } else if (args.action === 'change-puk') {
        if (s.capabilities.unblockCredential !== 'puk') throw usageError(`card ${s.info.serial} has no PUK (it is unblocked with its SO-PIN)`);
        const old = await obtainPin(ctx, { file: args['so-pin-file'], prompt: 'Current PUK: ', what: 'PUK' });
        try {
          const next = await obtainNewPin(ctx, { file: args['new-puk-file'], what: 'PUK' });
          try {
            await s.changeUnblockCredential(old, next);
          } finally {
            next.fill(0);
          }
        } finally {
          old.fill(0);
        }
        println(ctx, `PUK of card ${s.info.serial} changed`);
      } else {
        const puk = s.capabilities.unblockCredential === 'puk';
        if (!puk) await guardSoPin(ctx, s, { allowLastTry: args['allow-last-pin-try'] });
        const text = await obtainPin(ctx, { file: args['so-pin-file'], prompt: puk ? 'PUK: ' : 'SO-PIN (16 hex digits): ', what: puk ? 'PUK' : 'SO-PIN' });
        const so = puk ? text : soPinBytes(text);
        try {
          const next = await obtainNewPin(ctx, { file: args['new-pin-file'], what: 'user PIN' });
          try {
            checkNewPinLength(s, next);
            await s.unblockPin(so, next);
          } finally {
            next.fill(0);
          }
        } finally {
          so.fill(0);
        }
        println(ctx, `user PIN of card ${s.info.serial} reset; tries restored`);
      }
    } finally {
      await s.close();
    }
  });
}

/** Bad input changes nothing: the new PIN's length is checked against the card family's range before the card sees it. */
function checkNewPinLength(s: DriverCardSession, pin: Uint8Array): void {
  const { min, max } = s.capabilities.userPinLength;
  if (pin.length < min || pin.length > max) throw usageError(`the user PIN of a ${s.info.driver} card must be ${min} to ${max} characters`);
}

/** PIV: authenticate the current management key, then set the new one (typed twice unless from a file). */
async function changeMgmtKey(ctx: CliContext, s: DriverCardSession, args: PinArgs): Promise<void> {
  if (!s.needsAdminKey) throw usageError(`card ${s.info.serial} has no management key`);
  await authenticateAdminIfNeeded(ctx, s, args['mgmt-key-file']);
  const next = mgmtKeyBytes(await obtainNewPin(ctx, { file: args['new-mgmt-key-file'], what: 'management key (hex)' }));
  try {
    await s.changeAdminKey(next);
  } finally {
    next.fill(0);
  }
  println(ctx, `management key of card ${s.info.serial} changed; keep the new one in custody`);
}
