import { AsnConvert, BitString, OctetString } from '@peculiar/asn1-schema';
import { concatBytes } from '../../../common/hex.js';
import type { CommandApdu } from '../../apdu/command-apdu.js';
import type { Pkcs15Personalisation } from '../card-driver.js';
import { PinAttributes, PinFlags, PinObject } from '../../pkcs15/schema/auth-object.js';
import { CommonAuthenticationObjectAttributes, CommonObjectAttributes, CommonObjectFlags, Pkcs15Path } from '../../pkcs15/schema/common-attributes.js';
import { OdfEntry } from '../../pkcs15/schema/odf.js';
import { AlgorithmInfo, AlgorithmOperations, LastUpdate, TokenFlags, TokenInfo } from '../../pkcs15/schema/token-info.js';
import { tlv } from '../../tlv.js';
import { MYEID_AID } from './myeid-commands.js';

/**
 * What `ca card init` writes on an Aventra MyEID: the PKCS#15 layout OpenSC 0.23's
 *
 *   pkcs15-init --erase-card
 *   pkcs15-init --create-pkcs15 --profile pkcs15+onepin --pin PIN --puk PUK --label LABEL
 *   pkcs15-init --store-pin --auth-id 01 --pin PIN --puk PUK --label "User PIN"
 *   pkcs15-init --finalize
 *
 * leaves, file for file and byte for byte (checked against test/fixtures/myeid/onepin-init.json,
 * which OpenSC wrote on the emulator). Facts from OpenSC 0.23.0: `pkcs15init/myeid.profile`
 * (sizes, ACLs, PIN limits), `pkcs15init/pkcs15.profile` (option onepin), `pkcs15init/pkcs15-myeid.c`
 * (`myeid_get_init_applet_data`, `myeid_create_dir`, `myeid_create_pin`, `myeid_init_card`),
 * `pkcs15init/pkcs15-lib.c` (`sc_pkcs15init_add_app`, `sc_pkcs15init_write_info`,
 * `sc_pkcs15init_update_file`), `tools/pkcs15-init.c` (`do_init_app`: with `+onepin` the user PIN
 * and PUK also become the SO PIN and PUK, whatever `--so-pin` says).
 *
 * Only builders and encoders here, no card I/O (myeid-personalise-card.ts runs them).
 */

/** The user PIN as `--store-pin --auth-id 01` creates it (myeid.profile `PIN user-pin`, `user-puk`). */
export const MYEID_USER_PIN = { reference: 1, authId: 0x01, tries: 3, pukTries: 10 } as const;
/** The SO PIN `--create-pkcs15` creates (myeid.profile `PIN so-pin`, `so-puk`: reference 3, auth-id FF). */
export const MYEID_SO_PIN = { reference: 3, authId: 0xff, tries: 3, pukTries: 10 } as const;
/** myeid.profile `cardinfo`: PINs and PUKs of 4–8 bytes, ASCII, FF-padded to 8. */
export const MYEID_PIN_LIMITS = { minLength: 4, maxLength: 8, storedLength: 8, padChar: 0xff } as const;
/** The PIN record's tries bytes must be 1..14 (`myeid_create_pin` sends 5 for anything else). */
export const MYEID_MAX_TRIES = 14;
/** What the driver declares (DriverCapabilities.pkcs15Personalisation) so `ca card init` stays generic. */
export const MYEID_PKCS15_PERSONALISATION: Pkcs15Personalisation = {
  profile: 'pkcs15+onepin',
  pinLength: { min: MYEID_PIN_LIMITS.minLength, max: MYEID_PIN_LIMITS.maxLength },
  pukLength: { min: MYEID_PIN_LIMITS.minLength, max: MYEID_PIN_LIMITS.maxLength },
  maxRetries: MYEID_MAX_TRIES,
};
/** cardinfo `manufacturer`, written to TokenInfo. */
export const MYEID_MANUFACTURER = 'Aventra Ltd.';

const APP = Uint8Array.of(0x3f, 0x00, 0x50, 0x15);

/**
 * One file of the layout, in the order pkcs15-init creates it. ACLs are the three FCP 86 bytes
 * the card gets (card-myeid.c `encode_file_structure` of the profile's ACLs once `$PIN` = 1 and
 * `$SOPIN` = 3 are resolved): nibbles READ|UPDATE, DELETE|—, — for an EF.
 */
export interface MyeidLayoutFile {
  readonly name: string;
  /** 'mf' for EF.DIR, 'app' for everything in DF 5015. */
  readonly parent: 'mf' | 'app';
  readonly fid: number;
  readonly size: number;
  readonly acl: Uint8Array;
  /** What pkcs15-init writes with UPDATE BINARY; undefined = nothing (the card's own fill). */
  readonly content: Uint8Array | undefined;
}

/** Where a step sits in pkcs15-init's order: after the xDFs the SO PIN, after 4946 the user PIN. */
export type MyeidPersonaliseStep =
  | { readonly kind: 'file'; readonly file: MyeidLayoutFile }
  | { readonly kind: 'so-pin' }
  | { readonly kind: 'user-pin' };

/** INITIALISE APPLET data (`myeid_get_init_applet_data`): FF FF, MF CREATE / DELETE, DF 5015 CREATE / DELETE. */
export const MYEID_INIT_APPLET_DATA = Uint8Array.of(
  0xff, 0xff,
  0x11, 0x3f, 0xff, // MF: CREATE=$PIN (1), DELETE (= INITIALISE APPLET again)=$SOPIN (3)
  0x11, 0x1f, 0xff, // 5015: CREATE=$PIN, DELETE=$PIN
);

/** PUT DATA `00 DA 01 E0 08 <data>`: INITIALISE APPLET, wiping files, keys and PIN records (`myeid_erase_card`). */
export function initialiseApplet(): CommandApdu {
  return { cla: 0x00, ins: 0xda, p1: 0x01, p2: 0xe0, data: MYEID_INIT_APPLET_DATA.slice() };
}

/**
 * PUT DATA `00 DA 01 <ref> 13`: a PIN record (`myeid_create_pin`): PIN and PUK, each ASCII
 * FF-padded to 8, PIN tries, PUK tries, 00. The caller wipes `data` after sending it.
 */
export function putPinRecord(o: { reference: number; pin: Uint8Array; puk: Uint8Array; tries: number; pukTries: number }): CommandApdu {
  const { minLength: min, maxLength: max, padChar } = MYEID_PIN_LIMITS;
  if (o.reference < 1 || o.reference >= MYEID_MAX_TRIES) throw new RangeError('MyEID PIN references are 1..13');
  if (o.pin.length < min || o.pin.length > max || o.puk.length < min || o.puk.length > max) throw new RangeError(`MyEID PINs and PUKs are ${min}..${max} bytes`);
  for (const t of [o.tries, o.pukTries]) if (!Number.isInteger(t) || t < 1 || t > MYEID_MAX_TRIES) throw new RangeError(`MyEID PIN tries are 1..${MYEID_MAX_TRIES}`);
  const data = new Uint8Array(19).fill(padChar, 0, 16);
  data.set(o.pin, 0);
  data.set(o.puk, 8);
  data[16] = o.tries;
  data[17] = o.pukTries;
  data[18] = 0x00;
  return { cla: 0x00, ins: 0xda, p1: 0x01, p2: o.reference, data };
}

/** ACTIVATE APPLET `00 44 04 00 0C <AID>` (card-myeid.c `myeid_activate_card`, `--finalize`): creation → operational. */
export function activateApplet(): CommandApdu {
  return { cla: 0x00, ins: 0x44, p1: 0x04, p2: 0x00, data: MYEID_AID.slice() };
}

const ser = (x: object): Uint8Array => new Uint8Array(AsnConvert.serialize(x));

function padTo(content: Uint8Array, size: number, what: string): Uint8Array {
  if (content.length > size) throw new RangeError(`${what} needs ${content.length} bytes, its file holds ${size}`);
  const out = new Uint8Array(size);
  out.set(content);
  return out;
}

/** EF.DIR 2F00 (128 bytes): `61 { 4F AID, 50 label, 51 3F00 5015 }` (dir.c `encode_dir_record`), zero-padded. */
export function encodeEfDir(label: string): Uint8Array {
  const rec = tlv(0x61, concatBytes(tlv(0x4f, MYEID_AID), tlv(0x50, new TextEncoder().encode(label)), tlv(0x51, APP)));
  return padTo(rec, 128, 'the EF.DIR record (label too long)');
}

const appPath = (fid: number) => new Pkcs15Path({ path: new OctetString(concatBytes(APP, Uint8Array.of(fid >> 8, fid & 0xff))) });

/**
 * ODF 5031 (255 bytes) as `myeid_create_dir` adds the xDFs and `sc_pkcs15init_add_app` the AODF:
 * PrKDF 4402, PuKDF 4404, SKDF 4407, CDF 4403, trusted CDF 4405, DODF 4406, AODF 4401, absolute paths.
 */
export function encodeOdf(): Uint8Array {
  const entries = [
    new OdfEntry({ privateKeys: appPath(0x4402) }),
    new OdfEntry({ publicKeys: appPath(0x4404) }),
    new OdfEntry({ secretKeys: appPath(0x4407) }),
    new OdfEntry({ certificates: appPath(0x4403) }),
    new OdfEntry({ trustedCertificates: appPath(0x4405) }),
    new OdfEntry({ dataObjects: appPath(0x4406) }),
    new OdfEntry({ authObjects: appPath(0x4401) }),
  ];
  return padTo(concatBytes(...entries.map(ser)), 255, 'the ODF');
}

/** `myeid_init_card`'s supportedAlgorithms: AES-128/256 ECB and CBC, encipher + decipher, algRef 0. */
const MYEID_ALGORITHMS: ReadonlyArray<{ mechanism: number; oid: string }> = [
  { mechanism: 0x1081, oid: '2.16.840.1.101.3.4.1.1' }, // CKM_AES_ECB, aes128-ECB
  { mechanism: 0x1082, oid: '2.16.840.1.101.3.4.1.2' }, // CKM_AES_CBC, aes128-CBC
  { mechanism: 0x1081, oid: '2.16.840.1.101.3.4.1.41' }, // aes256-ECB
  { mechanism: 0x1082, oid: '2.16.840.1.101.3.4.1.42' }, // aes256-CBC
];

/**
 * TokenInfo 5032: version 0, the applet's 10-byte serial, "Aventra Ltd.", the label, flags
 * prnGeneration|eidCompliant (`myeid_init_card`), the AES algorithms, lastUpdate = `now` to the
 * second, UTC (`sc_pkcs15_get_generalized_time`). Written unpadded into a file of at least 160 bytes.
 */
export function encodeTokenInfo(o: { serial: Uint8Array; label: string; now: Date }): Uint8Array {
  const when = new Date(Math.floor(o.now.getTime() / 1000) * 1000);
  return ser(
    new TokenInfo({
      version: 0,
      serialNumber: new OctetString(o.serial),
      manufacturerID: MYEID_MANUFACTURER,
      label: o.label,
      tokenflags: new BitString(TokenFlags.prnGeneration | TokenFlags.eidCompliant),
      supportedAlgorithms: MYEID_ALGORITHMS.map(
        (a, i) => new AlgorithmInfo({ reference: i + 1, algorithm: a.mechanism, supportedOperations: new BitString(AlgorithmOperations.encipher | AlgorithmOperations.decipher), objId: a.oid, algRef: 0 }),
      ),
      lastUpdate: new LastUpdate({ generalizedTime: when }),
    }),
  );
}

/**
 * One AODF PIN entry as pkcs15-init writes it on a MyEID: private|modifiable, ASCII-numeric,
 * 4..8, stored 8, pad FF, no path (neither PIN has the `local` flag: myeid.profile's flags
 * replace pkcs15.profile's).
 */
function pinEntry(o: { label: string; authId: number; reference: number; flags: number }): Uint8Array {
  const { minLength, maxLength, storedLength, padChar } = MYEID_PIN_LIMITS;
  return ser(
    new PinObject({
      commonObjectAttributes: new CommonObjectAttributes({ label: o.label, flags: new BitString(CommonObjectFlags.private | CommonObjectFlags.modifiable) }),
      classAttributes: new CommonAuthenticationObjectAttributes({ authId: new OctetString(Uint8Array.of(o.authId)) }),
      typeAttributes: new PinAttributes({
        pinFlags: new BitString(o.flags),
        pinType: 1,
        minLength,
        storedLength,
        maxLength,
        pinReference: o.reference,
        padChar: new OctetString(Uint8Array.of(padChar)),
      }),
    }),
  );
}

/**
 * AODF 4401 (255 bytes): "Security Officer PIN" (authId FF, reference 3, initialized|needs-padding|soPin)
 * then the user PIN (authId 01, reference 1, initialized|needs-padding) labelled as `--store-pin --label` says.
 */
export function encodeAodf(userPinLabel: string): Uint8Array {
  const so = pinEntry({ label: 'Security Officer PIN', authId: MYEID_SO_PIN.authId, reference: MYEID_SO_PIN.reference, flags: PinFlags.initialized | PinFlags.needsPadding | PinFlags.soPin });
  const user = pinEntry({ label: userPinLabel, authId: MYEID_USER_PIN.authId, reference: MYEID_USER_PIN.reference, flags: PinFlags.initialized | PinFlags.needsPadding });
  return padTo(concatBytes(so, user), 255, 'the AODF (PIN label too long)');
}

/**
 * OpenSC's own info file 5015/4946 (128 bytes; `sc_pkcs15init_write_info`): tag 01 the profile
 * name, tag 02 each option — here "pkcs15" and "onepin" — so later pkcs15-init runs pick the profile.
 */
export function encodeOpenscInfo(): Uint8Array {
  const s = (tag: number, text: string) => tlv(tag, new TextEncoder().encode(text));
  return padTo(concatBytes(s(0x01, 'pkcs15'), s(0x02, 'onepin')), 128, 'the OpenSC info file');
}

/** The label OpenSC gives the PIN `--store-pin --label "User PIN"` creates (the guides' and docs' label). */
export const MYEID_USER_PIN_LABEL = 'User PIN';

const acl = (b0: number, b1: number, b2: number) => Uint8Array.of(b0, b1, b2);
/** `*=NEVER, READ=NONE, UPDATE=$PIN, DELETE=$SOPIN` (and the ODF's `READ=NONE, UPDATE=$PIN, DELETE=$SOPIN`). */
const XDF_ACL = acl(0x01, 0x3f, 0xff);

/**
 * The whole personalisation in pkcs15-init's order (after INITIALISE APPLET, before ACTIVATE):
 * the six xDFs with the ODF rewritten after each (`myeid_create_dir`; only the final ODF is
 * written here, the card ends up the same), the SO PIN record, the AODF, EF.DIR, TokenInfo, the
 * OpenSC info file, then the user PIN record (`--store-pin`). Sizes from myeid.profile's macros.
 * Throws RangeError (before anything touches a card) when the label does not fit.
 */
export function myeidOnepinLayout(o: { serial: Uint8Array; label: string; now: Date; userPinLabel?: string }): MyeidPersonaliseStep[] {
  const file = (name: string, parent: 'mf' | 'app', fid: number, size: number, a: Uint8Array, content?: Uint8Array): MyeidPersonaliseStep => ({
    kind: 'file',
    file: { name, parent, fid, size, acl: a, content },
  });
  const tokenInfo = encodeTokenInfo(o);
  return [
    file('PrKDF', 'app', 0x4402, 1530, XDF_ACL),
    file('ODF', 'app', 0x5031, 255, XDF_ACL, encodeOdf()),
    file('PuKDF', 'app', 0x4404, 1530, XDF_ACL),
    file('SKDF', 'app', 0x4407, 1530, XDF_ACL),
    file('CDF', 'app', 0x4403, 1530, XDF_ACL),
    file('trusted CDF', 'app', 0x4405, 510, XDF_ACL),
    file('DODF', 'app', 0x4406, 1530, XDF_ACL),
    { kind: 'so-pin' },
    // The profile says UPDATE/DELETE=$SOPIN; OpenSC 0.23 creates it with 01 1F FF (user PIN),
    // as captured in test/fixtures/myeid/onepin-init.json: copied, not reasoned about.
    file('AODF', 'app', 0x4401, 255, acl(0x01, 0x1f, 0xff), encodeAodf(o.userPinLabel ?? MYEID_USER_PIN_LABEL)),
    file('EF.DIR', 'mf', 0x2f00, 128, acl(0x03, 0x3f, 0xff), encodeEfDir(o.label)),
    file('TokenInfo', 'app', 0x5032, Math.max(160, tokenInfo.length), acl(0x03, 0x3f, 0xff), tokenInfo),
    // Every operation but READ = the SO PIN's reference (`sc_pkcs15init_write_info`).
    file('OpenSC info', 'app', 0x4946, 128, acl(0x03, 0x3f, 0xff), encodeOpenscInfo()),
    { kind: 'user-pin' },
  ];
}
