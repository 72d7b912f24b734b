import type { ApduChannel } from '../../apdu/apdu-channel.js';
import type { CommandApdu } from '../../apdu/command-apdu.js';
import { statusWordError, triesLeftOf } from '../../apdu/status-words.js';
import { CardError, PinError } from '../../errors.js';
import { selectFid, selectPath, updateBinary, verify } from '../../iso7816/commands.js';
import { findTlv, readTlv } from '../../tlv.js';
import * as cmd from './myeid-commands.js';
import {
  MYEID_MAX_TRIES,
  MYEID_PIN_LIMITS,
  MYEID_SO_PIN,
  MYEID_USER_PIN,
  activateApplet,
  initialiseApplet,
  myeidOnepinLayout,
  putPinRecord,
  type MyeidLayoutFile,
  type MyeidPersonaliseStep,
} from './myeid-personalise.js';

export interface MyeidPersonaliseOptions {
  /** The new user PIN (ASCII, 4–8); onepin makes it the SO PIN too. */
  readonly pin: Uint8Array;
  /** The new PUK of both PIN records (4–8). */
  readonly puk: Uint8Array;
  /** User PIN tries (1..14); the SO PIN keeps the profile's 3. */
  readonly retries: number;
  readonly label: string;
  /** TokenInfo lastUpdate. */
  readonly now: Date;
  /** The SO PIN on the card now: needed to erase a card that is operational (finalised). */
  readonly currentSoPin?: Uint8Array;
  /** The operator confirmed that whatever the card holds may be erased. */
  readonly eraseExisting: boolean;
}

const MF = 0x3f00;
const APP = Uint8Array.of(0x3f, 0x00, 0x50, 0x15);
/** FCP 8A life-cycle status (ISO 7816-4 §5.3.3.2 table 13): 01 creation; 04–07 operational. */
const LCS_CREATION = 0x01;
const CHUNK = 255;

/** GET DATA `00 CA 01 A1 00`: the FIDs of the current DF's children (card-myeid.c `myeid_list_files`). */
export function listFiles(): CommandApdu {
  return { cla: 0x00, ins: 0xca, p1: 0x01, p2: 0xa1, le: 256 };
}

function lengthOk(b: Uint8Array): boolean {
  return b.length >= MYEID_PIN_LIMITS.minLength && b.length <= MYEID_PIN_LIMITS.maxLength;
}

/** Everything checkable before the card is touched: lengths, tries, the layout itself (label size). */
export function checkPersonaliseInput(o: MyeidPersonaliseOptions, serial: Uint8Array): MyeidPersonaliseStep[] {
  const { minLength: min, maxLength: max } = MYEID_PIN_LIMITS;
  if (!lengthOk(o.pin)) throw new PinError('PIN_LENGTH', `a MyEID user PIN is ${min} to ${max} characters`, { hint: 'Choose a PIN of 4 to 8 characters (myeid.profile).' });
  if (!lengthOk(o.puk)) throw new PinError('PIN_LENGTH', `a MyEID PUK is ${min} to ${max} characters`, { hint: 'Choose a PUK of 4 to 8 characters (myeid.profile).' });
  if (o.currentSoPin !== undefined && !lengthOk(o.currentSoPin)) {
    throw new PinError('PIN_LENGTH', `a MyEID SO PIN is ${min} to ${max} characters`, { hint: 'Give the SO PIN the card was personalised with (pkcs15+onepin: the user PIN).' });
  }
  if (!Number.isInteger(o.retries) || o.retries < 1 || o.retries > MYEID_MAX_TRIES) {
    throw new CardError('CARD_INIT_BAD_RETRIES', `a MyEID PIN allows 1 to ${MYEID_MAX_TRIES} tries, not ${o.retries}`, { hint: `Use --retries 1..${MYEID_MAX_TRIES}.` });
  }
  try {
    return myeidOnepinLayout({ serial, label: o.label, now: o.now });
  } catch (err) {
    if (err instanceof RangeError) throw new CardError('CARD_INIT_LABEL_TOO_LONG', `--label does not fit on the MyEID: ${err.message}`, { hint: 'Use a shorter label.' });
    throw err;
  }
}

async function fcpOf(ch: ApduChannel, c: CommandApdu, what: string): Promise<{ lcs: number | undefined; acl: Uint8Array | undefined } | undefined> {
  const r = await ch.transmit(c);
  if (r.sw === 0x6a82) return undefined;
  if (r.sw !== 0x9000) throw statusWordError(r.sw, `SELECT ${what}`);
  try {
    const fcp = readTlv(r.data, 0).value;
    return { lcs: findTlv(fcp, 0x8a)?.[0], acl: findTlv(fcp, 0x86) };
  } catch {
    return { lcs: undefined, acl: undefined };
  }
}

async function children(ch: ApduChannel): Promise<number> {
  const r = await ch.transmit(listFiles());
  if (r.sw === 0x9000) return Math.floor(r.data.length / 2);
  if (r.sw === 0x6a82 || r.sw === 0x6a88) return 0;
  throw statusWordError(r.sw, 'GET DATA file list (01 A1)');
}

/** True when the card holds anything beyond a bare MF (and the empty DF 5015 INITIALISE APPLET leaves). */
async function hasContent(ch: ApduChannel): Promise<boolean> {
  await ch.expectOk(selectFid(MF, 'none'), 'SELECT MF');
  const top = await children(ch);
  const app = await fcpOf(ch, selectPath(APP, 'fci'), '3F00/5015');
  if (!app) return top > 0;
  return top > 1 || (await children(ch)) > 0;
}

/** VERIFY the SO PIN that guards the MF's DELETE (= INITIALISE APPLET) right, typed errors for each outcome. */
async function verifySoPin(ch: ApduChannel, reference: number, soPin: Uint8Array | undefined): Promise<void> {
  if (!soPin) {
    throw new PinError('SO_PIN_REQUIRED', `erasing this finalised MyEID needs its SO PIN (PIN reference ${reference})`, {
      hint: 'Give it with --current-so-pin-file FILE or at the prompt; on a pkcs15+onepin card it is the user PIN.',
    });
  }
  const data = cmd.padPin(soPin, MYEID_PIN_LIMITS.padChar, MYEID_PIN_LIMITS.storedLength);
  try {
    const r = await ch.transmit(verify(reference, data));
    if (r.sw === 0x9000) return;
    const tries = triesLeftOf(r.sw);
    if (tries !== undefined && tries > 0) {
      throw new PinError('SO_PIN_INCORRECT', `wrong SO PIN: the card was not erased; ${tries} ${tries === 1 ? 'try' : 'tries'} left`, {
        triesLeft: tries,
        hint: 'Check the SO PIN (pkcs15+onepin cards: the user PIN they were personalised with) before trying again.',
      });
    }
    if (tries === 0 || r.sw === 0x6983) {
      throw new PinError('SO_PIN_BLOCKED', 'the SO PIN of this MyEID is blocked: it can no longer be erased', { triesLeft: 0 });
    }
    throw statusWordError(r.sw, `VERIFY SO PIN (reference ${reference})`);
  } finally {
    data.fill(0);
  }
}

async function createAndWrite(ch: ApduChannel, f: MyeidLayoutFile): Promise<void> {
  const parent = f.parent === 'mf' ? selectFid(MF, 'none') : selectPath(APP, 'none');
  await ch.expectOk(parent, `SELECT ${f.parent === 'mf' ? '3F00' : '3F00/5015'}`);
  const fidHex = f.fid.toString(16).toUpperCase();
  await ch.expectOk(cmd.createFile({ fid: f.fid, descriptor: 0x01, size: f.size, acl: f.acl }), `CREATE FILE ${fidHex} (${f.name})`);
  if (!f.content) return;
  const path = f.parent === 'mf' ? Uint8Array.of(f.fid >> 8, f.fid & 0xff) : Uint8Array.of(0x50, 0x15, f.fid >> 8, f.fid & 0xff);
  await ch.expectOk(selectPath(path, 'none'), `SELECT ${f.name}`);
  for (let off = 0; off < f.content.length; off += CHUNK) {
    await ch.expectOk(updateBinary(off, f.content.subarray(off, Math.min(off + CHUNK, f.content.length))), `UPDATE BINARY ${fidHex} (${f.name}) at ${off}`);
  }
}

async function putPin(ch: ApduChannel, o: { reference: number; pin: Uint8Array; puk: Uint8Array; tries: number; pukTries: number }, what: string): Promise<void> {
  const c = putPinRecord(o);
  try {
    await ch.expectOk(c, `PUT DATA ${what} record (01 0${o.reference})`);
  } finally {
    c.data!.fill(0);
  }
}

/**
 * Personalise a MyEID as OpenSC's pkcs15-init does with the pkcs15+onepin profile
 * (myeid-personalise.ts): refuse to erase a card with content unless confirmed; on a finalised
 * card VERIFY its SO PIN first (a wrong one costs a try and erases nothing); INITIALISE APPLET;
 * the files and PIN records in pkcs15-init's order; ACTIVATE APPLET (`--finalize`) last, so an
 * interruption leaves a card in creation state that the next `ca card init` erases without a PIN.
 * `serial` is the applet's 10-byte serial (GET DATA 01 A0), written to TokenInfo.
 */
export async function personaliseMyeid(ch: ApduChannel, serial: Uint8Array, o: MyeidPersonaliseOptions): Promise<void> {
  const steps = checkPersonaliseInput(o, serial);
  const mf = await fcpOf(ch, selectFid(MF, 'fci'), 'MF 3F00');
  if (!mf) throw new CardError('CARD_UNSUPPORTED', 'the MyEID has no MF');
  if (!o.eraseExisting && (await hasContent(ch))) {
    throw new CardError('CARD_ALREADY_PERSONALISED', 'the MyEID already holds a PKCS#15 structure; initialising erases every key and certificate on it', {
      hint: 'Confirm the erase: run `ca card init` in a terminal and type the confirmation, or pass --yes.',
    });
  }
  if (mf.lcs !== undefined && mf.lcs !== LCS_CREATION) {
    // The MF's DELETE right is the high nibble of the second ACL byte (card-myeid.c `parse_sec_attr`,
    // df_ops[2]); INITIALISE APPLET needs it once the card is operational (`myeid_erase_card`).
    const nibble = mf.acl && mf.acl.length === 3 ? mf.acl[1]! >> 4 : 0x0f;
    if (nibble === 0x0f) throw new CardError('CARD_ERASE_FORBIDDEN', 'the MyEID\'s access rules never allow erasing it', { hint: 'This card cannot be re-personalised.' });
    if (nibble !== 0) await verifySoPin(ch, nibble, o.currentSoPin);
  }
  await ch.expectOk(initialiseApplet(), 'PUT DATA INITIALISE APPLET (01 E0)');
  for (const step of steps) {
    if (step.kind === 'file') await createAndWrite(ch, step.file);
    else if (step.kind === 'so-pin') await putPin(ch, { reference: MYEID_SO_PIN.reference, pin: o.pin, puk: o.puk, tries: MYEID_SO_PIN.tries, pukTries: MYEID_SO_PIN.pukTries }, 'SO PIN');
    else await putPin(ch, { reference: MYEID_USER_PIN.reference, pin: o.pin, puk: o.puk, tries: o.retries, pukTries: MYEID_USER_PIN.pukTries }, 'user PIN');
  }
  await ch.expectOk(activateApplet(), 'ACTIVATE APPLET');
}
