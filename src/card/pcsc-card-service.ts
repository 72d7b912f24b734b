import type { ApduTracer } from './apdu/apdu-channel.js';
import type { CardInfo, CardKeyEntry, CardSelector, CardService } from './card-service.js';
import { DriverCardSession } from './card-session-impl.js';
import { CardError } from './errors.js';
import { PcscContext, type ReaderState } from './transport/pcsc-context.js';

export interface ReaderListing {
  readonly reader: string;
  readonly cardPresent: boolean;
  /** Card details, when a supported card is present. */
  readonly card: CardInfo | undefined;
  /** Why the card could not be read, when present but unusable. */
  readonly error: string | undefined;
  /** Every key slot on the card (foreign and incomplete keys too), when asked for with `withKeys`. */
  readonly keys?: CardKeyEntry[];
}

/**
 * `CardService` over pcscd. Opens the PC/SC context lazily; `close()` releases it so the process
 * exits by itself.
 */
export class PcscCardService implements CardService {
  private ctx: PcscContext | undefined;
  private readonly tracer: ApduTracer | undefined;
  private readonly timeoutMs: number | undefined;

  constructor(options: { tracer?: ApduTracer; timeoutMs?: number } = {}) {
    this.tracer = options.tracer;
    this.timeoutMs = options.timeoutMs;
  }

  private context(): PcscContext {
    this.ctx ??= PcscContext.open();
    return this.ctx;
  }

  private async openReader(reader: string, timeoutMs = this.timeoutMs): Promise<DriverCardSession> {
    const transport = await this.context().connect(reader);
    try {
      return await DriverCardSession.open(transport, {
        ...(this.tracer ? { tracer: this.tracer } : {}),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
    } catch (e) {
      await transport.close();
      throw e;
    }
  }

  async readers(): Promise<ReaderState[]> {
    return this.context().listReaders();
  }

  /** Every reader with what is in it (for `ca card list`). */
  async listReaders(o: { reader?: string; withKeys?: boolean } = {}): Promise<ReaderListing[]> {
    const out: ReaderListing[] = [];
    for (const r of await this.readers()) {
      if (o.reader !== undefined && r.name !== o.reader) continue;
      if (!r.cardPresent) {
        out.push({ reader: r.name, cardPresent: false, card: undefined, error: undefined });
        continue;
      }
      try {
        const s = await this.openReader(r.name);
        try {
          const keys = o.withKeys ? await s.inventory() : undefined;
          out.push({ reader: r.name, cardPresent: true, card: s.info, error: undefined, ...(keys ? { keys } : {}) });
        } finally {
          await s.close();
        }
      } catch (e) {
        out.push({ reader: r.name, cardPresent: true, card: undefined, error: e instanceof Error ? e.message : String(e) });
      }
    }
    return out;
  }

  async listCards(): Promise<CardInfo[]> {
    return (await this.listReaders()).flatMap((r) => (r.card ? [r.card] : []));
  }

  /** Open a session; selecting by serial probes every reader that holds a card. */
  async open(selector: CardSelector, options: { timeoutMs?: number } = {}): Promise<DriverCardSession> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    if (selector.reader !== undefined) {
      const s = await this.openReader(selector.reader, timeoutMs);
      if (selector.serial !== undefined && s.info.serial !== selector.serial) {
        await s.close();
        throw new CardError('CARD_NOT_FOUND', `the card in "${selector.reader}" has serial ${s.info.serial}, not ${selector.serial}`, {
          hint: 'Insert the right card, or drop --reader to search every reader.',
        });
      }
      return s;
    }
    const withCard = (await this.readers()).filter((r) => r.cardPresent);
    if (selector.serial === undefined) {
      if (withCard.length === 1) return this.openReader(withCard[0]!.name, timeoutMs);
      throw new CardError(
        withCard.length === 0 ? 'CARD_NOT_FOUND' : 'CARD_AMBIGUOUS',
        withCard.length === 0 ? 'no card in any reader' : `${withCard.length} readers hold a card`,
        { hint: withCard.length === 0 ? 'Insert the card.' : 'Choose one with --card SERIAL or --reader NAME (see `ca card list`).' },
      );
    }
    const matches: DriverCardSession[] = [];
    for (const r of withCard) {
      try {
        const s = await this.openReader(r.name, timeoutMs);
        if (s.info.serial === selector.serial) matches.push(s);
        else await s.close();
      } catch {
        /* unsupported or busy card: not the one we look for */
      }
    }
    if (matches.length === 1) return matches[0]!;
    for (const m of matches) await m.close();
    throw new CardError(
      matches.length === 0 ? 'CARD_NOT_FOUND' : 'CARD_AMBIGUOUS',
      matches.length === 0 ? `no card with serial ${selector.serial} in any reader` : `${matches.length} cards report serial ${selector.serial}`,
      { hint: 'Check the serial with `ca card list`.' },
    );
  }

  async close(): Promise<void> {
    const ctx = this.ctx;
    this.ctx = undefined;
    await ctx?.close();
  }
}
