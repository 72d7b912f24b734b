import { bytesEqual, toHex } from '../../common/hex.js';
import { readSingle, value } from '../x509/der.js';
import { integerContentToBigint } from '../x509/integer.js';
import { id_ce } from '../x509/oids.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';
import type { CrlModel } from './crl-model.js';
import type { LintRule } from './lint-types.js';
import { checkTimeEncoding } from './x509-time.js';

const KNOWN_CRL_EXTENSIONS = new Set<string>([id_ce.authorityKeyIdentifier, id_ce.cRLNumber]);
/** BR 7.2.2 / 4.9.1: keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn; never unspecified (0, omitted instead), certificateHold (6), removeFromCRL (8) or aACompromise (10). */
const ALLOWED_REASONS = new Set([1, 2, 3, 4, 5, 9]);

/** A GeneralizedTime value (as the content of an extension) → Date, or undefined. */
function generalizedTimeValue(der: Uint8Array): Date | undefined {
  try {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(Buffer.from(value(der, readSingle(der))).toString('latin1'));
    return m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined;
  } catch {
    return undefined;
  }
}

const thisUpdate = (m: CrlModel) => checkTimeEncoding(m.tbs, m.thisUpdateTlv);
const nextUpdate = (m: CrlModel) => (m.nextUpdateTlv ? checkTimeEncoding(m.tbs, m.nextUpdateTlv) : {});

/** The ca-invariants.md §2.1 CRL row as rules (RFC 5280 §5, BR 7.2). */
export const CRL_RULES: readonly LintRule<CrlModel>[] = [
  { name: 'e_crl_version_not_2', source: 'RFC 5280 §5.1.2.1', check: (m) => (m.version !== 1 ? 'CRL version is not v2' : undefined) },
  { name: 'e_crl_signature_algorithm_not_allowed', source: 'RFC 5280 §5.1.1.2', check: (m) => (signatureAlgorithmFromIdentifier(m.signatureAlgorithm) ? undefined : 'signature AlgorithmIdentifier not allowed') },
  { name: 'e_crl_issuer_not_byte_identical', source: 'RFC 5280 §5.1.2.3', check: (m) => (bytesEqual(m.issuer, m.ctx.issuerName) ? undefined : 'issuer differs from the CA subject') },
  { name: 'e_crl_time_format', source: 'RFC 5280 §5.1.2.4-5', check: (m) => [thisUpdate(m).problem, nextUpdate(m).problem].filter((x): x is string => !!x) },
  { name: 'e_crl_next_update_missing', source: 'RFC 5280 §5.1.2.5; BR 7.2.2', check: (m) => (m.nextUpdateTlv ? undefined : 'nextUpdate missing') },
  {
    name: 'e_crl_next_update_not_after_this_update', source: 'RFC 5280 §5.1.2.5',
    check: (m) => { const a = thisUpdate(m).date; const b = nextUpdate(m).date; return a && b && b.getTime() <= a.getTime() ? 'nextUpdate is not after thisUpdate' : undefined; },
  },
  {
    name: 'e_crl_validity_too_long', source: 'BR 7.2.2 / profile crl.validity',
    check: (m) => { const a = thisUpdate(m).date; const b = nextUpdate(m).date; return a && b && b.getTime() - a.getTime() > m.ctx.maxValidityMs ? 'nextUpdate − thisUpdate exceeds the profile CRL validity' : undefined; },
  },
  {
    name: 'e_crl_this_update_in_future', source: 'operational',
    check: (m) => { const a = thisUpdate(m).date; return a && a.getTime() > m.ctx.now.getTime() + 60_000 ? 'thisUpdate is in the future' : undefined; },
  },
  { name: 'e_crl_duplicate_extension', source: 'RFC 5280 §5.2', check: (m) => { const s = new Set<string>(); return m.extensions.filter((e) => (s.has(e.oid) ? true : (s.add(e.oid), false))).map((e) => `${e.oid} twice`); } },
  { name: 'e_crl_unknown_extension', source: 'RFC 5280 §5.2 (no delta, no IDP, no indirect CRLs here)', check: (m) => m.extensions.filter((e) => !KNOWN_CRL_EXTENSIONS.has(e.oid)).map((e) => `unexpected CRL extension ${e.oid}`) },
  { name: 'e_crl_aki_missing', source: 'RFC 5280 §5.2.1', check: (m) => (m.extensions.some((e) => e.oid === id_ce.authorityKeyIdentifier) ? undefined : 'authorityKeyIdentifier missing') },
  {
    name: 'e_crl_aki_not_issuer_ski', source: 'RFC 5280 §5.2.1',
    check: (m) => (m.aki && (!m.aki.keyIdentifier || !bytesEqual(new Uint8Array(m.aki.keyIdentifier.buffer), m.ctx.issuerSki)) ? 'AKI keyIdentifier differs from the CA SKI' : undefined),
  },
  { name: 'e_crl_aki_critical', source: 'RFC 5280 §5.2.1', check: (m) => (m.extensions.find((e) => e.oid === id_ce.authorityKeyIdentifier)?.critical ? 'AKI critical' : undefined) },
  { name: 'e_crl_number_missing', source: 'RFC 5280 §5.2.3', check: (m) => (m.crlNumberContent ? undefined : 'cRLNumber missing') },
  { name: 'e_crl_number_critical', source: 'RFC 5280 §5.2.3', check: (m) => (m.extensions.find((e) => e.oid === id_ce.cRLNumber)?.critical ? 'cRLNumber critical' : undefined) },
  {
    name: 'e_crl_number_out_of_range', source: 'RFC 5280 §5.2.3 (≤ 20 octets, non-negative)',
    check: (m) => (m.crlNumberContent && (m.crlNumberContent.length > 20 || m.crlNumberContent[0]! & 0x80) ? 'cRLNumber negative or longer than 20 octets' : undefined),
  },
  {
    name: 'e_crl_number_not_increasing', source: 'RFC 5280 §5.2.3 (monotonically increasing)',
    check: (m) => (m.crlNumberContent && m.ctx.previousCrlNumber !== undefined && integerContentToBigint(m.crlNumberContent) <= m.ctx.previousCrlNumber ? 'cRLNumber not larger than the previous one' : undefined),
  },
  { name: 'e_crl_empty_revoked_certificates', source: 'RFC 5280 §5.1.2.6', check: (m) => (m.entries && m.entries.length === 0 ? 'revokedCertificates present but empty' : undefined) },
  {
    name: 'e_crl_entry_serial_invalid', source: 'RFC 5280 §4.1.2.2',
    check: (m) => (m.entries ?? []).filter((e) => e.serial.length === 0 || e.serial.length > 20 || e.serial[0]! & 0x80).map((e) => `entry serial ${toHex(e.serial)} is not a valid serial`),
  },
  {
    name: 'e_crl_entry_serial_unknown', source: 'ca-invariants §2.1 (entry serials byte-identical to the certs)',
    check: (m) => (m.ctx.knownSerialsHex ? (m.entries ?? []).filter((e) => !m.ctx.knownSerialsHex!.has(toHex(e.serial))).map((e) => `entry serial ${toHex(e.serial)} was not issued by this CA`) : undefined),
  },
  {
    name: 'e_crl_entry_duplicate_serial', source: 'RFC 5280 §5.1.2.6',
    check: (m) => { const s = new Set<string>(); return (m.entries ?? []).filter((e) => { const k = toHex(e.serial); return s.has(k) ? true : (s.add(k), false); }).map((e) => `serial ${toHex(e.serial)} listed twice`); },
  },
  { name: 'e_crl_entry_time_format', source: 'RFC 5280 §5.1.2.6', check: (m) => (m.entries ?? []).map((e) => checkTimeEncoding(m.tbs, e.revocationDateTlv).problem).filter((x): x is string => !!x) },
  {
    name: 'e_crl_entry_unknown_extension', source: 'RFC 5280 §5.3 (no certificateIssuer: no indirect CRLs)',
    check: (m) => (m.entries ?? []).flatMap((e) => e.extensions.filter((x) => x.oid !== id_ce.cRLReasons && x.oid !== id_ce.invalidityDate).map((x) => `entry extension ${x.oid}`)),
  },
  {
    name: 'e_crl_invalidity_date_not_generalized_time', source: 'RFC 5280 §5.3.2 (InvalidityDate ::= GeneralizedTime)',
    check: (m) => (m.entries ?? []).flatMap((e) => e.extensions.filter((x) => x.oid === id_ce.invalidityDate).map((x) => {
      const t = readSingle(x.value);
      return t.tag !== 0x18 || !/^\d{14}Z$/.test(Buffer.from(value(x.value, t)).toString('latin1')) ? `invalidityDate of ${toHex(e.serial)} is not a GeneralizedTime YYYYMMDDHHMMSSZ` : undefined;
    }).filter((s): s is string => !!s)),
  },
  {
    name: 'e_crl_invalidity_date_after_revocation_date', source: 'RFC 5280 §5.3.2 (the date the key was compromised or the certificate became invalid)',
    check: (m) => (m.entries ?? []).flatMap((e) => e.extensions.filter((x) => x.oid === id_ce.invalidityDate).map((x) => {
      const inv = generalizedTimeValue(x.value);
      const rev = checkTimeEncoding(m.tbs, e.revocationDateTlv).date;
      return inv && rev && inv.getTime() > rev.getTime() ? `invalidityDate of ${toHex(e.serial)} is after its revocationDate` : undefined;
    }).filter((s): s is string => !!s)),
  },
  { name: 'e_crl_invalidity_date_critical', source: 'RFC 5280 §5.3.2 (non-critical)', check: (m) => (m.entries ?? []).flatMap((e) => e.extensions.filter((x) => x.oid === id_ce.invalidityDate && x.critical).map(() => 'invalidityDate critical')) },
  { name: 'e_crl_reason_code_critical', source: 'RFC 5280 §5.3.1', check: (m) => (m.entries ?? []).flatMap((e) => e.extensions.filter((x) => x.oid === id_ce.cRLReasons && x.critical).map(() => 'reasonCode critical')) },
  {
    name: 'e_crl_reason_code_not_allowed', source: 'RFC 5280 §5.3.1; BR 7.2.2 (no unspecified, no certificateHold)',
    check: (m) => (m.entries ?? []).flatMap((e) => e.extensions.filter((x) => x.oid === id_ce.cRLReasons).map((x) => {
      const t = readSingle(x.value);
      const c = value(x.value, t);
      const code = c.length === 1 ? c[0]! : -1;
      return t.tag !== 0x0a || !ALLOWED_REASONS.has(code) ? `reason code ${code} not allowed for ${toHex(e.serial)}` : undefined;
    }).filter((s): s is string => !!s)),
  },
];
