import { bytesEqual } from '../../common/hex.js';
import { integerContentToBigint } from '../x509/integer.js';
import { id_ce } from '../x509/oids.js';
import { signatureAlgorithmFromIdentifier } from '../x509/signature-algorithm-identifier.js';
import type { CrlModel } from './crl-model.js';
import type { EntryRuleName } from './crl-entry-checks.js';
import type { LintRule } from './lint-types.js';
import { checkTimeEncoding } from './x509-time.js';

const KNOWN_CRL_EXTENSIONS = new Set<string>([id_ce.authorityKeyIdentifier, id_ce.cRLNumber]);
const entry = (rule: EntryRuleName) => (m: CrlModel): readonly string[] | undefined => m.entryFindings.get(rule);

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
  { name: 'e_crl_empty_revoked_certificates', source: 'RFC 5280 §5.1.2.6', check: (m) => (m.entryCount === 0 ? 'revokedCertificates present but empty' : undefined) },
  // Per-entry rules: evaluated in one walk over the entries by crl-entry-checks.ts.
  { name: 'e_crl_entry_serial_invalid', source: 'RFC 5280 §4.1.2.2', check: entry('e_crl_entry_serial_invalid') },
  { name: 'e_crl_entry_serial_unknown', source: 'ca-invariants §2.1 (entry serials byte-identical to the certs)', check: entry('e_crl_entry_serial_unknown') },
  { name: 'e_crl_entry_duplicate_serial', source: 'RFC 5280 §5.1.2.6', check: entry('e_crl_entry_duplicate_serial') },
  { name: 'e_crl_entry_time_format', source: 'RFC 5280 §5.1.2.6', check: entry('e_crl_entry_time_format') },
  { name: 'e_crl_entry_unknown_extension', source: 'RFC 5280 §5.3 (no certificateIssuer: no indirect CRLs)', check: entry('e_crl_entry_unknown_extension') },
  { name: 'e_crl_invalidity_date_not_generalized_time', source: 'RFC 5280 §5.3.2 (InvalidityDate ::= GeneralizedTime)', check: entry('e_crl_invalidity_date_not_generalized_time') },
  { name: 'e_crl_invalidity_date_after_revocation_date', source: 'RFC 5280 §5.3.2 (the date the key was compromised or the certificate became invalid)', check: entry('e_crl_invalidity_date_after_revocation_date') },
  { name: 'e_crl_invalidity_date_critical', source: 'RFC 5280 §5.3.2 (non-critical)', check: entry('e_crl_invalidity_date_critical') },
  { name: 'e_crl_reason_code_critical', source: 'RFC 5280 §5.3.1', check: entry('e_crl_reason_code_critical') },
  { name: 'e_crl_reason_code_not_allowed', source: 'RFC 5280 §5.3.1; BR 7.2.2 (no unspecified, no certificateHold)', check: entry('e_crl_reason_code_not_allowed') },
];
