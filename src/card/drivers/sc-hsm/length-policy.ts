import type { ApduChannel } from '../../apdu/apdu-channel.js';
import type { CommandApdu } from '../../apdu/command-apdu.js';
import { SHORT_MAX_LC } from '../../apdu/command-apdu.js';
import type { ResponseApdu } from '../../apdu/response-apdu.js';
import { CardError } from '../../errors.js';

/**
 * Extended length (ISO 7816-4 §5.1) where the path allows it, short APDUs where it does not.
 * Some readers (and T=0 links) do not carry extended APDUs; the card or reader then answers
 * `6700`. OpenSC copes the same way: `sc_read_binary` loops over `max_recv_size` chunks and
 * `sc_update_binary` over `max_send_size` chunks (card.c). Learnt once per session.
 */
export class LengthPolicy {
  /** undefined until the first extended APDU was answered; false after a `6700` to one. */
  extended: boolean | undefined;

  constructor(private readonly ch: ApduChannel, private readonly where: () => string) {}

  /**
   * Send `ext`; on `6700` switch to short APDUs and send `short` (or fail naming the limit when
   * the operation has no short form, e.g. an RSA-2048 SIGN with its 256-byte input).
   */
  async transmit(ext: CommandApdu, short: CommandApdu | undefined, what: string): Promise<ResponseApdu> {
    if (this.extended !== false) {
      const r = await this.ch.transmit(ext);
      if (r.sw !== 0x6700 || this.extended === true) {
        if (r.sw !== 0x6700) this.extended = true;
        return r;
      }
      this.extended = false;
    }
    if (!short) throw this.needsExtended(what, ext.data?.length ?? 0);
    return this.ch.transmit(short);
  }

  needsExtended(what: string, dataBytes: number): CardError {
    return new CardError(
      'READER_NO_EXTENDED_LENGTH',
      `${what} needs an extended-length APDU (${dataBytes} data bytes; a short APDU carries at most ${SHORT_MAX_LC}), and the reader or card path to ${this.where()} does not carry extended-length APDUs (it answered 6700)`,
      { hint: 'Use a reader that supports extended APDUs (most CCID readers do; check its data sheet), or connect the card directly.' },
    );
  }
}
