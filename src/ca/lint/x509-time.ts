import type { Tlv } from '../x509/der.js';

/**
 * RFC 5280 §4.1.2.5: dates through 2049 as UTCTime `YYMMDDHHMMSSZ`, from 2050 as
 * GeneralizedTime `YYYYMMDDHHMMSSZ`; always Zulu, always with seconds, no fractions.
 * Returns a problem description or undefined; `date` is the decoded value.
 */
export function checkTimeEncoding(buf: Uint8Array, t: Tlv): { problem?: string; date?: Date } {
  const s = Buffer.from(buf.subarray(t.valueStart, t.end)).toString('latin1');
  if (t.tag === 0x17) {
    const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) return { problem: `UTCTime ${JSON.stringify(s)} is not YYMMDDHHMMSSZ` };
    const yy = Number(m[1]);
    const year = yy >= 50 ? 1900 + yy : 2000 + yy;
    return { date: new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))) };
  }
  if (t.tag === 0x18) {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
    if (!m) return { problem: `GeneralizedTime ${JSON.stringify(s)} is not YYYYMMDDHHMMSSZ` };
    const year = Number(m[1]);
    const date = new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
    if (year < 2050) return { problem: `GeneralizedTime used for ${year} (UTCTime required through 2049)`, date };
    return { date };
  }
  return { problem: `time has tag 0x${t.tag.toString(16)}, not UTCTime/GeneralizedTime` };
}
