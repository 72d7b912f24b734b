import type { IssuerInfo } from '../../ca/cert/certificate-content.js';
import type { CardSignature } from '../../ca/ceremony.js';
import { CaError } from '../../ca/errors.js';
import { issuerInfoFromStore } from '../../ca/issuance-issuer.js';
import type { CaRecord } from '../../ca/store.js';
import type { Signer } from '../../crypto/signer.js';
import type { DriverCardSession } from '../../card/card-session-impl.js';
import { cardService } from '../card-context.js';
import { CardSlot, type CaContext, type SigningCardArgs } from '../ca-context.js';
import type { CliContext } from '../context.js';
import { caCards } from '../../db/ca-card-bindings.js';

/**
 * Shared by `ca sign` and `ca crl`: the issuing CA from the database, and its card found by the
 * bound serial among the readers (one session, PIN verified once).
 */
export interface IssuingCa {
  readonly ca: CaRecord;
  readonly info: IssuerInfo;
  /** Further cards holding the CA key (restored from a DKEK backup, `ca key restore`). */
  readonly furtherCards: readonly string[];
  /** The home is a rehearsal home (emulated cards allowed). */
  readonly rehearsal?: boolean;
  /** Key reference of the CA key on each card that holds it (the ceremony card and further cards). */
  readonly keyRefs?: Readonly<Record<string, number>>;
}

/** Which card made a signature for `issuer` (the transcript's "signed by"; a CA key may be on several cards). */
export function signedByCard(issuer: IssuingCa, card: { readonly serial: string; readonly driver: string }, what: string): CardSignature {
  const keyRef = issuer.keyRefs?.[card.serial];
  return { what, cardSerial: card.serial, cardFamily: card.driver, keyId: issuer.ca.keyId, ...(keyRef === undefined ? {} : { keyRef }) };
}

export function issuingCa(cactx: CaContext, name: string): IssuingCa {
  const ca = cactx.store.getCa(name);
  if (!ca) {
    cactx.profiles.ca(name); // a name not in the hierarchy is a PROFILE_NOT_FOUND
    throw new CaError('UNKNOWN_ISSUER', `CA ${name} has not been created yet`, { hint: `Run \`ca ceremony ${cactx.profiles.ca(name).parent ? `subca ${name}` : 'root'}\` first.` });
  }
  if (!ca.certificate) {
    throw new CaError('CA_NOT_READY', `CA ${name} has no certificate (its ceremony did not finish)`, {
      hint: `Finish the ceremony: \`ca ceremony ${cactx.profiles.ca(name).parent ? `subca ${name}` : 'root'} --resume\`.`,
    });
  }
  const bindings = caCards(cactx.store, name);
  const furtherCards = bindings.map((b) => b.cardSerial);
  const keyRefs = Object.fromEntries([[ca.cardSerial, ca.keyRef], ...bindings.map((b) => [b.cardSerial, b.keyRef] as const)]);
  return { ca, info: issuerInfoFromStore(cactx.store, ca, cactx.profiles.caProfile(ca.profileName)), furtherCards, rehearsal: cactx.mode.rehearsal, keyRefs };
}

export async function withIssuerSigner<T>(
  ctx: CliContext,
  args: SigningCardArgs,
  issuer: IssuingCa,
  fn: (signer: Signer, session: DriverCardSession) => Promise<T>,
): Promise<T> {
  const serial = args.card ?? issuer.ca.cardSerial;
  if (serial !== issuer.ca.cardSerial && !issuer.furtherCards.includes(serial)) {
    const all = [issuer.ca.cardSerial, ...issuer.furtherCards].join(', ');
    throw new CaError('CARD_WRONG', `CA ${issuer.ca.name} is bound to card ${all}, not ${serial}`, { hint: 'Drop --card, or insert a bound card.' });
  }
  const service = cardService(ctx, {});
  const slot = new CardSlot(ctx, service, `signing card of ${issuer.ca.name}`, serial, {
    reader: args.reader,
    pinFile: args['pin-file'],
    allowLastPinTry: args['allow-last-pin-try'] === true,
    refuseEmulated: issuer.rehearsal !== true,
  });
  try {
    const session = await slot.get();
    const signer = await session.signer(issuer.ca.keyId);
    return await fn(signer, session);
  } finally {
    await slot.release();
    await service.close();
  }
}
