import { createPublicKey, type KeyObject } from 'node:crypto';
import { ScHsmCard, type ScHsmCardOptions } from '../../../src/card/emulator/sc-hsm-card.js';
import { findTlv, parseTlvs, readTlv, tlv } from '../../../src/card/emulator/tlv.js';
import { curveByName, type CurveName } from '../../../src/card/emulator/ec-curves.js';
import { bigintToBytes } from '../../../src/common/bigint-math.js';

export const SO_PIN = Buffer.from('3537363231383830', 'hex');
export const USER_PIN = Buffer.from('648219', 'ascii');
export const AID = 'E82B0601040181C31F0201';

export const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
export const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** Send an APDU given as hex; returns { sw: 'XXXX', data: Uint8Array }. */
export async function tx(card: ScHsmCard, apduHex: string | Uint8Array): Promise<{ sw: string; data: Uint8Array }> {
  const r = await card.process(typeof apduHex === 'string' ? hex(apduHex) : apduHex);
  return { sw: toHex(r.subarray(r.length - 2)), data: r.subarray(0, r.length - 2) };
}

export function apdu(cla: number, ins: number, p1: number, p2: number, data?: Uint8Array, le?: number): Uint8Array {
  const ext = (data?.length ?? 0) > 255 || (le ?? 0) > 256;
  const parts: number[] = [cla, ins, p1, p2];
  if (data && data.length > 0) {
    if (ext) parts.push(0, data.length >> 8, data.length & 0xff);
    else parts.push(data.length);
    parts.push(...data);
  }
  if (le !== undefined) {
    if (ext) {
      if (!data || data.length === 0) parts.push(0);
      parts.push((le >> 8) & 0xff, le & 0xff);
    } else parts.push(le & 0xff);
  }
  return Uint8Array.from(parts);
}

export function initData(opts: { soPin?: Uint8Array; userPin?: Uint8Array; retries?: number } = {}): Uint8Array {
  const user = opts.userPin ?? USER_PIN;
  return new Uint8Array(
    Buffer.concat([
      tlv(0x80, Uint8Array.of(0x00, 0x01)),
      tlv(0x81, user),
      tlv(0x82, opts.soPin ?? SO_PIN),
      tlv(0x91, Uint8Array.of(opts.retries ?? 3)),
    ]),
  );
}

/** A card that is initialised with the documented test PINs, applet selected, user logged in. */
export async function readyCard(options: ScHsmCardOptions = {}): Promise<ScHsmCard> {
  const card = new ScHsmCard(options);
  card.powerOn();
  await expectSw(card, `00A4040C0B${AID}`, '9000');
  await expectSw(card, apdu(0x80, 0x50, 0, 0, initData()), '9000');
  await expectSw(card, apdu(0x00, 0x20, 0, 0x81, USER_PIN), '9000');
  return card;
}

export async function expectSw(card: ScHsmCard, a: string | Uint8Array, sw: string): Promise<Uint8Array> {
  const r = await tx(card, a);
  if (r.sw !== sw) throw new Error(`APDU ${typeof a === 'string' ? a : toHex(a)}: expected SW ${sw}, got ${r.sw}`);
  return r.data;
}

const RSA_OID = hex('04007F00070202020102');
const EC_OID = hex('04007F00070202020203');

export function gakpRsa(bits: number): Uint8Array {
  return new Uint8Array(
    Buffer.concat([
      tlv(0x5f29, Uint8Array.of(0)),
      tlv(0x42, Buffer.from('UTCA00001')),
      tlv(0x7f49, tlv(0x06, RSA_OID), tlv(0x82, hex('010001')), tlv(0x02, Uint8Array.of(bits >> 8, bits & 0xff))),
      tlv(0x5f20, Buffer.from('DETEST0000000001')),
    ]),
  );
}

export function gakpEc(curveName: CurveName): Uint8Array {
  const c = curveByName(curveName)!;
  const g = Buffer.concat([Buffer.of(4), bigintToBytes(c.gx, c.size), bigintToBytes(c.gy, c.size)]);
  return new Uint8Array(
    Buffer.concat([
      tlv(0x5f29, Uint8Array.of(0)),
      tlv(0x42, Buffer.from('UTCA00001')),
      tlv(
        0x7f49,
        tlv(0x06, EC_OID),
        tlv(0x81, bigintToBytes(c.p, c.size)),
        tlv(0x82, bigintToBytes(c.a, c.size)),
        tlv(0x83, bigintToBytes(c.b, c.size)),
        tlv(0x84, g),
        tlv(0x85, bigintToBytes(c.n)),
        tlv(0x87, Uint8Array.of(1)),
      ),
      tlv(0x5f20, Buffer.from('DETEST0000000001')),
    ]),
  );
}

/** Public key from a GAKP response (`67 { 7F21 { 7F4E { … 7F49 … } } }` or bare `7F21`). */
/** The uncompressed EC point (tag 86) of a CV request. */
export function ecPointFromRequest(resp: Uint8Array): Uint8Array {
  let t = readTlv(resp);
  if (t.tag === 0x67) t = readTlv(t.value);
  const body = readTlv(t.value);
  return findTlv(parseTlvs(findTlv(parseTlvs(body.value), 0x7f49)!), 0x86)!;
}

export function publicKeyFromRequest(resp: Uint8Array, curveName?: 'P-256' | 'P-384' | 'P-521'): KeyObject {
  let t = readTlv(resp);
  if (t.tag === 0x67) t = readTlv(t.value);
  if (t.tag !== 0x7f21) throw new Error('not a CV request');
  const body = readTlv(t.value);
  const pk = findTlv(parseTlvs(body.value), 0x7f49)!;
  const fields = parseTlvs(pk);
  const q = findTlv(fields, 0x86);
  if (q) {
    const c = curveByName(curveName ?? 'P-256')!;
    const x = Buffer.from(q.subarray(1, 1 + c.size)).toString('base64url');
    const y = Buffer.from(q.subarray(1 + c.size)).toString('base64url');
    return createPublicKey({ key: { kty: 'EC', crv: c.name, x, y }, format: 'jwk' });
  }
  const n = Buffer.from(findTlv(fields, 0x81)!).toString('base64url');
  const e = Buffer.from(findTlv(fields, 0x82)!).toString('base64url');
  return createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
}
