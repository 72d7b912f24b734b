import { X509Certificate } from 'node:crypto';
import { CardError } from './errors.js';

/**
 * The `pkcs11-id` OpenVPN needs for a key on a token used through OpenSC's PKCS#11 module,
 * exactly as `openvpn --show-pkcs11-ids MODULE` prints it ("Serialized id"). That string is
 * pkcs11-helper's serialized certificate id: the token's CK_TOKEN_INFO manufacturerID, model,
 * serialNumber and label, then the certificate's CKA_ID in hex, joined by `/`, each text field
 * with the characters pkcs11-helper reserves written as `\xHH` (pkcs11-helper
 * `pkcs11h-serialization.c`, `__PKCS11H_SERIALIZE_INVALID_CHARS`).
 *
 * The token fields are what OpenSC reports for each card family; the integration test
 * (test/integration/user-tokens.test.ts) compares the result with openvpn's own output.
 */
export { OPENSC_PKCS11_MODULE } from './opensc-pkcs11-module.js';

/** What cardca knows about a token (its `CardInfo`). */
export interface TokenDescription {
  readonly driver: string;
  readonly serial: string;
  readonly tokenLabel: string | undefined;
  /** TokenInfo manufacturerID, when the card has one. */
  readonly manufacturer?: string | undefined;
  /** `CardInfo.tokenSerial` (PIV: from the CHUID). */
  readonly tokenSerial?: string | undefined;
  /** `CardInfo.pinLabel` (MyEID: the user PIN's AODF label). */
  readonly pinLabel?: string | undefined;
  /** The token's keys with their certificates (PIV: OpenSC names the token after the first certificate). */
  readonly keys?: readonly { readonly id: string; readonly certificate: Uint8Array | undefined }[];
}

/**
 * OpenSC's PKCS#15 iD of a PIV key (pkcs15-piv.c `prkeys[]`): 9A → 01, 9C → 02, 9D → 03,
 * 9E → 04, and the retired slots 82…95 → "05"…"24" (decimal-looking strings that
 * `sc_pkcs15_format_id` reads as hex).
 */
export function openscPivKeyId(slotHex: string): string {
  const slot = parseInt(slotHex, 16);
  const fixed: Record<number, string> = { 0x9a: '01', 0x9c: '02', 0x9d: '03', 0x9e: '04' };
  if (fixed[slot]) return fixed[slot]!;
  if (slot >= 0x82 && slot <= 0x95) return String(slot - 0x82 + 5).padStart(2, '0');
  throw new CardError('CARD_PKCS11_ID_UNKNOWN', `PIV slot ${slotHex} has no key object in OpenSC's PIV emulation`, { hint: 'Use slot 9a, 9c, 9d, 9e or 82..95.' });
}

/** OpenSC's order of the PIV certificates (pkcs15-piv.c `certs[]`): 9A, 9C, 9D, 9E, then 82…95. */
const PIV_CERT_ORDER = [0x9a, 0x9c, 0x9d, 0x9e, ...Array.from({ length: 20 }, (_, i) => 0x82 + i)];

function subjectCn(der: Uint8Array): string | undefined {
  try {
    return /^CN=(.*)$/m.exec(new X509Certificate(der).subject)?.[1];
  } catch {
    return undefined;
  }
}

/** Copy at most `n` bytes of UTF-8, as OpenSC's strcpy_bp into a fixed PKCS#11 field. */
function fixedField(s: string, n: number): string {
  const b = Buffer.from(s, 'utf8');
  return b.length <= n ? s : b.subarray(0, n).toString('utf8').replace(/\uFFFD$/, '');
}

export interface Pkcs11TokenInfo {
  readonly manufacturer: string;
  readonly model: string;
  readonly serial: string;
  readonly label: string;
}

/**
 * OpenSC's token info per card family. SmartCard-HSM: OpenSC emulates PKCS#15
 * (`pkcs15-sc-hsm.c`: model "PKCS#15 emulated", manufacturer the TokenInfo manufacturerID —
 * "cardca" on cards `ca card init` initialised — or "www.CardContact.de" without one, serial =
 * the device serial), and the PKCS#11 slot of the user PIN is labelled "TOKEN-LABEL (UserPIN)"
 * (`framework-pkcs15.c`: token label, then the PIN object's label in parentheses). Checked
 * against `openvpn --show-pkcs11-ids` / `pkcs11-tool -L` on OpenSC 0.23 + pkcs11-helper 1.29.
 */
export function openscTokenInfo(card: TokenDescription): Pkcs11TokenInfo {
  switch (card.driver) {
    case 'sc-hsm':
      return {
        manufacturer: card.manufacturer ?? 'www.CardContact.de',
        model: 'PKCS#15 emulated',
        serial: card.serial,
        label: `${card.tokenLabel ?? 'SmartCard-HSM'} (UserPIN)`,
      };
    case 'piv': {
      // pkcs15-piv.c: manufacturer "piv_II " (trailing blank: PKCS#11 pads with blanks and
      // pkcs11-helper strips them), token label "PIV_II" or the CN of the first certificate in
      // `certs[]` order; the PIN's label is just "PIN", so framework-pkcs15.c shows the token
      // label alone. Serial: the last 16 characters of the CHUID-derived serial, or "00000000".
      const bySlot = new Map((card.keys ?? []).map((k) => [parseInt(k.id, 16), k.certificate] as const));
      const first = PIV_CERT_ORDER.map((s) => bySlot.get(s)).find((c) => c !== undefined);
      const label = (first && subjectCn(first)) ?? 'PIV_II';
      const sn = card.tokenSerial ?? '00000000';
      return { manufacturer: 'piv_II', model: 'PKCS#15 emulated', serial: sn.slice(-16), label: fixedField(label, 32) };
    }
    case 'myeid':
      // A real PKCS#15 card (framework-pkcs15.c `pkcs15_init_token_info`): no model from the
      // driver, so "PKCS#15"; manufacturer = TokenInfo manufacturerID; serial = the last 16
      // characters of the TokenInfo serial; label as `pkcs15_init_slot` builds it.
      return {
        manufacturer: card.manufacturer ?? '',
        model: 'PKCS#15',
        serial: (card.tokenSerial ?? '').slice(-16),
        label: pkcs15SlotLabel(card.tokenLabel, card.pinLabel),
      };
    default:
      throw new CardError('CARD_PKCS11_ID_UNKNOWN', `cardca does not know how OpenSC names ${card.driver} tokens in PKCS#11`, {
        hint: 'Write the .ovpn by hand: take the id from `openvpn --show-pkcs11-ids /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so`.',
      });
  }
}

/**
 * OpenSC's PKCS#11 slot label for a PIN of a real PKCS#15 card (framework-pkcs15.c
 * `pkcs15_init_slot`, with more than one slot per card, OpenSC's default): "TOKEN (PIN)", the
 * token label cut so that it all fits 32 bytes; the PIN label alone when there is no token label
 * or it does not fit with "L... ()"; the token label alone when the PIN label is empty or "PIN".
 * Colons become dots.
 */
export function pkcs15SlotLabel(tokenLabel: string | undefined, pinLabel: string | undefined): string {
  const pin = pinLabel && pinLabel !== 'PIN' ? Buffer.from(pinLabel, 'utf8') : undefined;
  const token = Buffer.from(tokenLabel ?? '', 'utf8');
  let label: string;
  if (!pin) label = fixedField(tokenLabel ?? '', 32);
  else if (token.length === 0 || pin.length + 'L... ()'.length > 32) label = fixedField(pinLabel!, 32);
  else {
    const max = Math.min(token.length, 32 - pin.length - 3);
    label = `${token.subarray(0, max).toString('utf8').replace(/\uFFFD$/, '')} (${pinLabel})`;
  }
  return label.replace(/:/g, '.');
}

/**
 * The characters pkcs11-helper writes as `\xHH`: `__PKCS11H_SERIALIZE_INVALID_CHARS` as the
 * installed libpkcs11-helper.so.1 (1.29) has it — its strings hold `\/"'%&#@!?$* <>{}[]()`|:;,.+-`,
 * so "Aventra Ltd." serializes as `Aventra\x20Ltd\x2E` (checked against `openvpn --show-pkcs11-ids`).
 */
const RESERVED = '\\/"\'%&#@!?$* <>{}[]()`|:;,.+-';

function escape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x20 || b > 0x7e || RESERVED.includes(c) ? `\\x${b.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

/** pkcs11-helper's serialized id for the certificate with CKA_ID `keyIdHex` on that token. */
export function serializePkcs11Id(token: Pkcs11TokenInfo, keyIdHex: string): string {
  const id = keyIdHex.replace(/[\s:]/g, '').toUpperCase();
  if (!/^([0-9A-F]{2})+$/.test(id)) throw new TypeError(`key id ${keyIdHex} is not hex`);
  return [token.manufacturer, token.model, token.serial, token.label].map(escape).join('/') + '/' + id;
}

export function openscPkcs11Id(card: TokenDescription, keyIdHex: string): string {
  return serializePkcs11Id(openscTokenInfo(card), card.driver === 'piv' ? openscPivKeyId(keyIdHex) : keyIdHex);
}
