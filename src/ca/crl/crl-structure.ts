import { children, DerError, readSingle, readTlvInto, type MutableTlv, type Tlv } from '../x509/der.js';

/**
 * The fields of a TBSCertList (RFC 5280 §5.1), split strictly: version and nextUpdate optional
 * (as the lint wants to report their absence), nothing after the extensions. Replaces the
 * asn1js-based parse that refused CRLs past 10,000 ASN.1 nodes (≈ 2,000 entries, issue #14).
 */
export interface TbsCertListFields {
  readonly version: Tlv | undefined;
  readonly signature: Tlv;
  readonly issuer: Tlv;
  readonly thisUpdate: Tlv;
  readonly nextUpdate: Tlv | undefined;
  /** revokedCertificates SEQUENCE OF, when present. */
  readonly revoked: Tlv | undefined;
  /** The `Extensions` SEQUENCE inside `[0] EXPLICIT`, when present. */
  readonly extensions: Tlv | undefined;
}

const isTime = (t: Tlv | undefined): boolean => t !== undefined && (t.tag === 0x17 || t.tag === 0x18);

export function tbsCertListFields(tbs: Uint8Array): TbsCertListFields {
  const top = readSingle(tbs);
  if (top.tag !== 0x30) throw new DerError('TBSCertList is not a SEQUENCE');
  const f = children(tbs, top);
  let i = 0;
  const version = f[0]?.tag === 0x02 ? f[i++] : undefined;
  const signature = f[i++];
  const issuer = f[i++];
  const thisUpdate = f[i++];
  if (signature?.tag !== 0x30 || issuer?.tag !== 0x30 || !isTime(thisUpdate)) {
    throw new DerError('TBSCertList is not { version, signature, issuer, thisUpdate, … } (RFC 5280 §5.1)');
  }
  const nextUpdate = isTime(f[i]) ? f[i++] : undefined;
  const revoked = f[i]?.tag === 0x30 ? f[i++] : undefined;
  let extensions: Tlv | undefined;
  if (f[i]?.tag === 0xa0) {
    const inner = children(tbs, f[i++]!);
    if (inner.length !== 1 || inner[0]!.tag !== 0x30) throw new DerError('crlExtensions [0] does not hold one SEQUENCE');
    extensions = inner[0];
  }
  if (i !== f.length) throw new DerError(`TBSCertList has an unexpected field (tag 0x${f[i]!.tag.toString(16)}) at offset ${f[i]!.start}`);
  return { version, signature: signature!, issuer: issuer!, thisUpdate: thisUpdate!, nextUpdate, revoked, extensions };
}

/** One extension of a CRL entry, as offsets into the CRL. */
export interface EntryExtension {
  readonly oid: Tlv;
  readonly critical: boolean;
  /** The OCTET STRING's TLV; its content is the extension value. */
  readonly value: Tlv;
}

/**
 * One entry of revokedCertificates: SEQUENCE { userCertificate INTEGER, revocationDate Time,
 * crlEntryExtensions Extensions OPTIONAL } (RFC 5280 §5.1). The object and every Tlv in it are
 * reused from entry to entry: read what you need inside the visitor, keep nothing.
 */
export interface CrlEntryView {
  readonly entry: Tlv;
  readonly serial: Tlv;
  readonly revocationDate: Tlv;
  /** The first `extensionCount` items are this entry's. */
  readonly extensions: readonly EntryExtension[];
  readonly extensionCount: number;
}

interface MutableExtension {
  oid: MutableTlv;
  critical: boolean;
  value: MutableTlv;
}

const tlv = (): MutableTlv => ({ tag: 0, start: 0, valueStart: 0, end: 0 });

/**
 * Walk revokedCertificates strictly without building a list or an object per entry: a million
 * entries cost a million visits of one reused view (issue #14). Throws `DerError` on the first
 * malformed entry.
 */
export function walkCrlEntries(buf: Uint8Array, list: Tlv, visit: (e: CrlEntryView) => void): number {
  const e = tlv();
  const serial = tlv();
  const time = tlv();
  const exts = tlv();
  const x = tlv();
  const flag = tlv();
  const pool: MutableExtension[] = [];
  const view = { entry: e as Tlv, serial: serial as Tlv, revocationDate: time as Tlv, extensions: pool as readonly EntryExtension[], extensionCount: 0 };
  let n = 0;
  for (let p = list.valueStart; p < list.end; ) {
    readTlvInto(buf, p, e);
    if (e.end > list.end) throw new DerError('CRL entry overruns revokedCertificates');
    if (e.tag !== 0x30) throw new DerError(`CRL entry at offset ${p} is not a SEQUENCE`);
    readTlvInto(buf, e.valueStart, serial);
    if (serial.tag !== 0x02 || serial.end > e.end || serial.end === serial.valueStart) throw new DerError(`CRL entry at offset ${p}: userCertificate is not an INTEGER`);
    if (serial.end >= e.end) throw new DerError(`CRL entry at offset ${p}: revocationDate is not a Time`);
    readTlvInto(buf, serial.end, time);
    if (time.end > e.end || (time.tag !== 0x17 && time.tag !== 0x18)) throw new DerError(`CRL entry at offset ${p}: revocationDate is not a Time`);
    let k = 0;
    if (time.end < e.end) {
      readTlvInto(buf, time.end, exts);
      if (exts.tag !== 0x30 || exts.end !== e.end) throw new DerError(`CRL entry at offset ${p}: crlEntryExtensions is not the last SEQUENCE`);
      for (let q = exts.valueStart; q < exts.end; ) {
        readTlvInto(buf, q, x);
        if (x.tag !== 0x30 || x.end > exts.end) throw new DerError(`CRL entry at offset ${p}: an extension is not a SEQUENCE`);
        const item = (pool[k] ??= { oid: tlv(), critical: false, value: tlv() });
        readTlvInto(buf, x.valueStart, item.oid);
        if (item.oid.tag !== 0x06 || item.oid.end > x.end) throw new DerError(`CRL entry at offset ${p}: extension without an OBJECT IDENTIFIER`);
        if (item.oid.end >= x.end) throw new DerError(`CRL entry at offset ${p}: extension without an OCTET STRING value`);
        let v = readTlvInto(buf, item.oid.end, flag);
        item.critical = false;
        if (v.tag === 0x01) {
          if (v.end - v.valueStart !== 1) throw new DerError(`CRL entry at offset ${p}: critical is not one octet`);
          item.critical = buf[v.valueStart] !== 0;
          if (v.end >= x.end) throw new DerError(`CRL entry at offset ${p}: extension without an OCTET STRING value`);
          v = readTlvInto(buf, v.end, flag);
        }
        if (v.tag !== 0x04 || v.end !== x.end) throw new DerError(`CRL entry at offset ${p}: extension without an OCTET STRING value`);
        readTlvInto(buf, v.start, item.value);
        k++;
        q = x.end;
      }
    }
    view.extensionCount = k;
    visit(view);
    n++;
    p = e.end;
  }
  return n;
}
