import { CardError } from '../errors.js';

/**
 * A defect in a card's PKCS#15 structure (ISO/IEC 7816-15), naming the directory file and the
 * object so the operator can find it with `pkcs15-tool -D`. Codes (stable):
 * CARD_PKCS15_NO_APPLICATION, CARD_PKCS15_MALFORMED, CARD_PKCS15_UNKNOWN_OBJECT,
 * CARD_PKCS15_DANGLING_PATH, CARD_PKCS15_REFERENCE_TOO_LARGE, CARD_PKCS15_REFERENCE_CYCLE,
 * CARD_PKCS15_KEY_WITHOUT_PIN, CARD_PKCS15_SIGNING_FORBIDDEN.
 */
export class Pkcs15Error extends CardError {
  readonly file: string;
  readonly object: string | undefined;
  constructor(code: string, file: string, object: string | undefined, message: string, hint?: string) {
    super(code, `PKCS#15 ${file}${object ? ` ${object}` : ''}: ${message}`, {
      hint: hint ?? 'Inspect the card with `pkcs15-tool -D`; re-personalise it with pkcs15-init if the structure is damaged. Other objects on the card stay usable.',
      details: { file, ...(object ? { object } : {}) },
    });
    this.file = file;
    this.object = object;
  }
}
