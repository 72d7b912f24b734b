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
export const OPENSC_PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

/** What cardca knows about a token (its `CardInfo`). */
export interface TokenDescription {
  readonly driver: string;
  readonly serial: string;
  readonly tokenLabel: string | undefined;
  /** TokenInfo manufacturerID, when the card has one. */
  readonly manufacturer?: string | undefined;
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
    default:
      throw new CardError('CARD_PKCS11_ID_UNKNOWN', `cardca does not know how OpenSC names ${card.driver} tokens in PKCS#11`, {
        hint: 'Write the .ovpn by hand: take the id from `openvpn --show-pkcs11-ids /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so`.',
      });
  }
}

const RESERVED = '\\/"\'%&#@!?$* <>{};:[]()';

function escape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += b < 0x20 || b > 0x7e || RESERVED.includes(c) ? `\\x${b.toString(16).padStart(2, '0')}` : c;
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
  return serializePkcs11Id(openscTokenInfo(card), keyIdHex);
}
