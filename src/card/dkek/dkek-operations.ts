import type { ApduChannel } from '../apdu/apdu-channel.js';
import { statusWordError } from '../apdu/status-words.js';
import type { DriverCardSession } from '../card-session-impl.js';
import type { CardDriver } from '../drivers/card-driver.js';
import * as dk from '../drivers/sc-hsm-dkek-apdus.js';
import { ScHsmDriver } from '../drivers/sc-hsm-driver.js';
import * as cmd from '../drivers/sc-hsm/sc-hsm-commands.js';
import { CardError } from '../errors.js';
import { blobKcv, type WrapFile } from './wrap-file.js';

/**
 * Host side of SmartCard-HSM key custody: DKEK status and share import, WRAP of a key with its
 * PRKD and certificate, and UNWRAP onto another card — the operations of `sc-hsm-tool`, with
 * every check that can be made before the card is touched made first (card-protocols.md §3.1).
 */
export type { DkekStatus } from '../drivers/sc-hsm-dkek-apdus.js';

function scHsm(driver: CardDriver, serial: string): ScHsmDriver {
  if (!(driver instanceof ScHsmDriver)) {
    throw new CardError('DKEK_UNSUPPORTED', `card ${serial} (${driver.name}) has no DKEK key backup`, {
      hint: 'Key backup with DKEK shares needs a SmartCard-HSM / Nitrokey HSM 2.',
    });
  }
  return driver;
}

async function status(ch: ApduChannel): Promise<dk.DkekStatus> {
  return dk.parseDkekStatus(await ch.expectOk(dk.dkekStatus(), 'DKEK status (80 52)'));
}

export function readDkekStatus(session: DriverCardSession): Promise<dk.DkekStatus> {
  return session.exclusive(async (ch, driver) => {
    scHsm(driver, session.info.serial);
    return status(ch);
  });
}

/** `count` random bytes from the card's generator (GET CHALLENGE). */
export function cardRandom(session: DriverCardSession, count: number): Promise<Uint8Array> {
  return session.exclusive(async (ch) => {
    const r = await ch.expectOk({ cla: 0x00, ins: 0x84, p1: 0x00, p2: 0x00, le: count }, 'GET CHALLENGE');
    if (r.length !== count) throw new CardError('CARD_RANDOM_SHORT', `the card returned ${r.length} of ${count} random bytes`);
    return r;
  });
}

/** Refuse a share for a card without shares or with all of them in (nothing is sent). */
export function assertShareWanted(s: dk.DkekStatus, serial: string): void {
  if (s.shares === 0) {
    throw new CardError('DKEK_NOT_CONFIGURED', `card ${serial} was initialised without DKEK shares`, {
      hint: 'Re-initialise it with `ca card init --dkek-shares N` (this erases its keys). Nothing was imported.',
    });
  }
  if (s.missing === 0) {
    throw new CardError('DKEK_ALREADY_COMPLETE', `card ${serial} already holds all ${s.shares} DKEK shares (KCV ${s.kcv})`, {
      hint: 'Nothing was imported. A share imported twice would cancel itself out of the DKEK.',
    });
  }
}

/**
 * Import one share. Refused before sending when the card takes no (more) shares, or when
 * `check` (given the status just read, in the same card transaction) throws.
 */
export function importShare(
  session: DriverCardSession,
  share: Uint8Array,
  check?: (before: dk.DkekStatus) => void,
): Promise<{ before: dk.DkekStatus; after: dk.DkekStatus }> {
  return session.exclusive(async (ch, driver) => {
    scHsm(driver, session.info.serial);
    const before = await status(ch);
    assertShareWanted(before, session.info.serial);
    check?.(before);
    const r = await ch.transmit(dk.importDkekShare(share));
    if (r.sw !== 0x9000) throw statusWordError(r.sw, 'IMPORT DKEK SHARE');
    return { before, after: dk.parseDkekStatus(r.data) };
  });
}

function requireComplete(s: dk.DkekStatus, serial: string): void {
  if (s.shares === 0) {
    throw new CardError('DKEK_NOT_CONFIGURED', `card ${serial} has no DKEK shares, so no key can be moved to or from it`, {
      hint: 'Initialise both cards with `ca card init --dkek-shares N` and import the same shares.',
    });
  }
  if (s.missing > 0) {
    throw new CardError('DKEK_INCOMPLETE', `card ${serial} still misses ${s.missing} of ${s.shares} DKEK shares`, {
      hint: 'Import the missing shares with `ca card dkek import FILE` first.',
    });
  }
}

async function present(ch: ApduChannel): Promise<Set<number>> {
  const list = await ch.expectOk(cmd.enumerateObjects(), 'ENUMERATE OBJECTS');
  const fids = new Set<number>();
  for (let i = 0; i + 1 < list.length; i += 2) fids.add((list[i]! << 8) | list[i + 1]!);
  return fids;
}

const fid = (prefix: number, ref: number) => (prefix << 8) | ref;

/** WRAP key `keyRef` (user PIN verified in this session) with its PRKD and certificate. */
export function wrapCardKey(session: DriverCardSession, keyRef: number): Promise<WrapFile & { kcv: string }> {
  return session.exclusive(async (ch, driver) => {
    const d = scHsm(driver, session.info.serial);
    const s = await status(ch);
    requireComplete(s, session.info.serial);
    const r = await ch.transmit(dk.wrapKey(keyRef));
    if (r.sw === 0x6985) {
      throw new CardError('DKEK_KEY_NOT_EXPORTABLE', `key ${keyRef} on card ${session.info.serial} may not leave the card`, {
        hint: 'Only keys generated after all DKEK shares were imported can be backed up. Generate a new key on a card with a complete DKEK.',
      });
    }
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `WRAP KEY ${keyRef}`);
    const prkd = await d.readFile(fid(cmd.FID_PREFIX.prkd, keyRef));
    const certificate = await d.readFile(fid(cmd.FID_PREFIX.eeCertificate, keyRef));
    return { blob: r.data, prkd: prkd && prkd.length > 0 ? prkd : undefined, certificate: certificate && certificate.length > 0 ? certificate : undefined, kcv: s.kcv };
  });
}

export interface UnwrapResult {
  readonly keyRef: number;
  readonly kcv: string;
}

/**
 * Restore a backup onto this card (user PIN verified). Checked first, in this order, with
 * nothing written: DKEK configured and complete, KCV of the card = KCV of the blob, target slot
 * (CCxx, C4xx, CExx) free. Then: blob → EF 2F10, UNWRAP, PRKD → C4xx, certificate → CExx.
 */
export function unwrapToCard(session: DriverCardSession, file: WrapFile, keyRef?: number): Promise<UnwrapResult> {
  return session.exclusive(async (ch, driver) => {
    const d = scHsm(driver, session.info.serial);
    const serial = session.info.serial;
    const s = await status(ch);
    requireComplete(s, serial);
    const want = blobKcv(file.blob);
    if (want !== s.kcv) {
      throw new CardError('DKEK_MISMATCH', `the backup was made under DKEK ${want}; card ${serial} holds DKEK ${s.kcv}`, {
        hint: 'Restore onto a card initialised with the same DKEK shares (`ca card dkek status` shows its KCV). Nothing was written.',
      });
    }
    const fids = await present(ch);
    const used = (ref: number) => [cmd.FID_PREFIX.privateKey, cmd.FID_PREFIX.prkd, cmd.FID_PREFIX.eeCertificate].some((p) => fids.has(fid(p, ref)));
    let ref = keyRef;
    if (ref === undefined) {
      ref = 1;
      while (ref < 256 && used(ref)) ref++;
      if (ref === 256) throw new CardError('CARD_FULL', `no free key slot on card ${serial}`, { hint: 'Delete an unused key first.' });
    } else if (used(ref)) {
      throw new CardError('DKEK_SLOT_IN_USE', `key slot ${ref} on card ${serial} is in use`, {
        hint: 'Choose a free --key-ref (or leave it out to take the first free one). Nothing was written.',
      });
    }
    await d.writeFile(dk.EF_UNWRAP_STAGING, file.blob);
    const r = await ch.transmit(dk.unwrapKey(ref));
    // Best effort: the staged blob is encrypted, but leave nothing behind.
    await ch.transmit(cmd.deleteFile(dk.EF_UNWRAP_STAGING));
    if (r.sw === 0x6a80) {
      throw new CardError('DKEK_BLOB_REJECTED', `card ${serial} rejected the key blob (authentication code or structure wrong)`, {
        hint: 'The backup file is damaged or forged; use another copy. Nothing was imported.',
      });
    }
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `UNWRAP KEY into slot ${ref}`);
    if (file.prkd) await d.writeFile(fid(cmd.FID_PREFIX.prkd, ref), file.prkd);
    if (file.certificate) await d.writeFile(fid(cmd.FID_PREFIX.eeCertificate, ref), file.certificate);
    return { keyRef: ref, kcv: s.kcv };
  });
}
