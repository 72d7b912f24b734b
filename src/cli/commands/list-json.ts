import type { CertificateSummary } from '../../ca/store.js';

const q = JSON.stringify;

/**
 * One certificate of `ca list --json` as it appears inside the output array: byte-identical to
 * `JSON.stringify(certJson(c), null, 2)` with every line indented two more spaces (the list's
 * format, which docs/ examples and tests parse), written field by field: a million rows then
 * cost a string template each, not an indented stringify plus a regular expression over its
 * result (≈ 24 µs per row, issue #14 item 4). list-json.test.ts holds the two equal.
 */
export function certJsonInList(c: CertificateSummary): string {
  const sans = c.sans.length === 0 ? '[]' : `[\n      ${c.sans.map((s) => q(s)).join(',\n      ')}\n    ]`;
  const r = c.revocation;
  const rev = r ? `{\n      "date": ${q(r.date)},\n      "reason": ${q(r.reason)},\n      "recordedAt": ${q(r.recordedAt)}\n    }` : 'null';
  return (
    `  {\n    "issuer": ${q(c.issuerName)},\n    "serial": ${q(c.serialHex)},\n    "status": ${q(c.status)},\n    "profile": ${q(c.profile)},\n` +
    `    "subject": ${q(c.subject)},\n    "sans": ${sans},\n    "notBefore": ${q(c.notBefore)},\n    "notAfter": ${q(c.notAfter)},\n` +
    `    "isCa": ${c.isCa ? 'true' : 'false'},\n    "reservedAt": ${q(c.reservedAt)},\n    "issuedAt": ${c.issuedAt === undefined ? 'null' : q(c.issuedAt)},\n` +
    `    "revocation": ${rev}\n  }`
  );
}
