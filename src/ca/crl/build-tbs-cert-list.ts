import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  Extension,
  KeyIdentifier,
  Name,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import { bytesEqual } from '../../common/hex.js';
import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { checkSerial, wholeSeconds } from '../cert/build-tbs-certificate.js';
import { CaError } from '../errors.js';
import { children, encodeTlv, readSingle, slice } from '../x509/der.js';
import { encodeInteger } from '../x509/integer.js';
import { id_ce } from '../x509/oids.js';
import { signatureAlgorithmIdentifier } from '../x509/signature-algorithm-identifier.js';
import { CRL_REASON_CODES, type TbsCertListInput } from './tbs-cert-list-input.js';

const MAX_CRL_NUMBER = 1n << 159n;

/** DER GeneralizedTime `YYYYMMDDHHMMSSZ` (X.690 §11.7). */
function generalizedTime(d: Date): Uint8Array {
  const t = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return encodeTlv(0x18, new Uint8Array(Buffer.from(t, 'latin1')));
}

function ab(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
}

/**
 * Serialise a v2 TBSCertList (RFC 5280 §5.1). Extensions: authorityKeyIdentifier and cRLNumber,
 * both non-critical (§5.2.1, §5.2.3). An empty revocation list is omitted, not encoded as an
 * empty SEQUENCE (§5.1.2.6). Entry reasonCode only for reasons other than `unspecified`
 * (§5.3.1); certificateHold and removeFromCRL are refused (no holds, no delta CRLs).
 */
export function buildTbsCertList(input: TbsCertListInput, signatureAlgorithm: SignatureAlgorithm): Uint8Array {
  if (input.crlNumber < 0n || input.crlNumber >= MAX_CRL_NUMBER) {
    throw new CaError('CA_BAD_CRL_NUMBER', `CRL number ${input.crlNumber} is outside 0..2^159-1 (RFC 5280 §5.2.3)`);
  }
  if (!(input.nextUpdate.getTime() > input.thisUpdate.getTime())) {
    throw new CaError('CA_BAD_CRL_DATES', 'nextUpdate must be later than thisUpdate (RFC 5280 §5.1.2.5)');
  }
  if (input.aki.length === 0) throw new CaError('CA_BAD_CRL_AKI', 'the CRL needs the issuer key identifier (RFC 5280 §5.2.1)');
  const algDer = signatureAlgorithmIdentifier(signatureAlgorithm);
  const revoked = input.entries.map((e) => {
    checkSerial(e.serial);
    const reason = e.reason ?? 'unspecified';
    if (reason === 'certificateHold' || reason === 'removeFromCRL') {
      throw new CaError('CA_BAD_CRL_REASON', `reason ${reason} is not supported (no certificate holds, no delta CRLs)`);
    }
    if (reason === 'aACompromise') throw new CaError('CA_BAD_CRL_REASON', 'reason aACompromise is not allowed (BR 7.2.2; this CA issues no attribute certificates)');
    const code = CRL_REASON_CODES[reason];
    if (code === undefined) throw new CaError('CA_BAD_CRL_REASON', `unknown CRL reason ${String(reason)}`);
    const rc = new RevokedCertificate({ userCertificate: ab(e.serial), revocationDate: new Time(wholeSeconds(e.revocationDate)) });
    const entryExts: Extension[] = [];
    if (code !== 0) {
      // CRLReason ::= ENUMERATED (RFC 5280 §5.3.1), tag 0x0a.
      entryExts.push(new Extension({ extnID: id_ce.cRLReasons, critical: false, extnValue: new OctetString(ab(encodeTlv(0x0a, Uint8Array.of(code)))) }));
    }
    if (e.invalidityDate) {
      if (e.invalidityDate.getTime() > e.revocationDate.getTime()) {
        throw new CaError('CA_BAD_INVALIDITY_DATE', 'the invalidity date is after the revocation date (RFC 5280 §5.3.2)');
      }
      // InvalidityDate ::= GeneralizedTime, always (RFC 5280 §5.3.2), whole seconds, Zulu.
      entryExts.push(new Extension({ extnID: id_ce.invalidityDate, critical: false, extnValue: new OctetString(ab(generalizedTime(wholeSeconds(e.invalidityDate)))) }));
    }
    if (entryExts.length > 0) rc.crlEntryExtensions = entryExts;
    return rc;
  });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: AsnConvert.parse(algDer, AlgorithmIdentifier),
    issuer: AsnConvert.parse(input.issuerName, Name),
    thisUpdate: new Time(wholeSeconds(input.thisUpdate)),
    nextUpdate: new Time(wholeSeconds(input.nextUpdate)),
    crlExtensions: [
      new Extension({
        extnID: id_ce.authorityKeyIdentifier,
        critical: false,
        extnValue: new OctetString(
          AsnConvert.serialize(new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(ab(input.aki)) })),
        ),
      }),
      new Extension({ extnID: id_ce.cRLNumber, critical: false, extnValue: new OctetString(ab(encodeInteger(input.crlNumber))) }),
    ],
  });
  if (revoked.length > 0) tbs.revokedCertificates = revoked;
  const der = new Uint8Array(AsnConvert.serialize(tbs));
  const parts = children(der, readSingle(der));
  if (!bytesEqual(slice(der, parts[1]!), algDer) || !bytesEqual(slice(der, parts[2]!), input.issuerName)) {
    throw new CaError('CA_TBS_ENCODING', 'CRL issuer or algorithm did not survive encoding byte-for-byte', {
      hint: 'The issuer name DER is not canonical.',
    });
  }
  return der;
}
