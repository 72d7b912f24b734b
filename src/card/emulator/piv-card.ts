import type { PersistState } from './state-file.js';
import { PoweredCard } from './powered-card.js';
import { createECDH, createPrivateKey, randomBytes } from 'node:crypto';
import { modInv } from '../../common/bigint-math.js';
import { MGMT_ALG_BY_ID, METADATA_TAG, OBJECT_TAG, PIV_ALG, PIV_PIX, PIV_RID, KEY_REF, KEY_SLOTS, mgmtAlgId, slotHex } from '../piv/piv-constants.js';
import { mgmtBlockSize, mgmtEncrypt } from '../piv/mgmt-key-crypto.js';
import { ecParts, ecdsaSignHash, generateCardKey, rsaPublic, rsaRaw } from './card-crypto.js';
import { pinMatches, pinRecord } from './card-state.js';
import { parseCommandApdu, type CommandApdu } from './command-apdu.js';
import { CommandChain } from './command-chain.js';
import { ResponseChain } from './response-chain.js';
import type { CurveName } from './ec-curves.js';
import { createAttestation, ensureAttestationIdentity } from './piv-attestation.js';
import { factoryPivState, resetPivState, type PivStateData, type PivStoredKey, type PivStoredPin } from './piv-state.js';
import { CardStatus, fail, SW, triesLeftSw } from './status-words.js';
import { findTlv, parseTlvs, tlv } from './tlv.js';

/**
 * ATR of a YubiKey 5 over USB CCID: T=1, historical bytes in compact-TLV form whose tag 5 carries
 * "YubiKey" (OpenSC card-piv.c `piv_match_card_continued` types the card as YubiKey from it and
 * then asks GET VERSION). The final byte is the TCK.
 */
export const PIV_ATR = withTck(Buffer.from('3BFD1300008131FE158073C021C057597562694B6579', 'hex'));

function atLeast(v: readonly [number, number, number], min: readonly [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i]! > min[i]!;
  return true;
}

function withTck(b: Buffer): Uint8Array {
  let x = 0;
  for (let i = 1; i < b.length; i++) x ^= b[i]!;
  return Uint8Array.from([...b, x]);
}

/** Key algorithms the emulated token generates: identifier → node key spec (SP 800-78-4 Table 6-2). */
const KEY_ALG: Readonly<Record<number, { kind: 'rsa'; bits: number } | { kind: 'ec'; curve: CurveName }>> = {
  [PIV_ALG.rsa2048]: { kind: 'rsa', bits: 2048 },
  [PIV_ALG.rsa3072]: { kind: 'rsa', bits: 3072 },
  [PIV_ALG.rsa4096]: { kind: 'rsa', bits: 4096 },
  [PIV_ALG.p256]: { kind: 'ec', curve: 'P-256' },
  [PIV_ALG.p384]: { kind: 'ec', curve: 'P-384' },
};

/** Default PIN policy per slot on a YubiKey: 9C always, 9E never, the rest once. */
function defaultPinPolicy(slot: number): number {
  return slot === 0x9c ? 0x03 : slot === 0x9e ? 0x01 : 0x02;
}

/** Discovery object (SP 800-73-4 Part 1 §3.3.2): PIV AID, PIN usage policy 40 00 (PIV PIN only). */
const DISCOVERY = tlv(0x7e, tlv(0x4f, Uint8Array.from([...PIV_RID, ...PIV_PIX])), tlv(0x5f2f, Uint8Array.of(0x40, 0x00)));

export interface PivCardOptions {
  state?: PivStateData;
  persist?: PersistState<PivStateData>;
  /** Accept extended-length APDUs (default true); false answers them with 6700. */
  extendedLength?: boolean;
  /** Largest response part before 61xx / GET RESPONSE; default 256 for short Le, Ne for extended. */
  maxResponseSize?: number;
  /**
   * What the token's touch sensor does for keys with touch policy always/cached: 'granted'
   * (default: the touch is simulated) or 'timeout' (nobody touches: after `touchTimeoutMs` the
   * operation fails with 6982, as a YubiKey does when its ~15 s touch wait runs out).
   */
  touch?: 'granted' | 'timeout';
  touchTimeoutMs?: number;
}

interface Reply {
  data?: Uint8Array;
  sw?: number;
}

/**
 * An emulated PIV token (NIST SP 800-73-4 card application) with the Yubico extensions that
 * yubico-piv-tool and OpenSC's `PIV-II` driver use: GET VERSION, GET SERIAL, GET METADATA,
 * ATTEST, SET MANAGEMENT KEY, SET PIN RETRIES and RESET. Command chaining (CLA 10) and
 * 61xx/GET RESPONSE as a YubiKey does. `process()` never rejects: every failure is a status word.
 */
export class PivCard extends PoweredCard {
  private s: PivStateData;
  private readonly persistFn: PersistState<PivStateData> | undefined;
  private readonly extended: boolean;
  private readonly maxResponse: number;
  // Volatile state (power-off, reset, re-SELECT).
  private selected = false;
  private pinVerified = false;
  /** Set by VERIFY, spent by a signature with PIN policy "always". */
  private pinFresh = false;
  private mgmtAuthenticated = false;
  private witness: Uint8Array | undefined;
  private readonly chain = new CommandChain();
  private readonly response = new ResponseChain();
  /** Touch sensor behaviour (PivCardOptions.touch); tests may switch it while the card runs. */
  touch: 'granted' | 'timeout';
  touchTimeoutMs: number;

  constructor(o: PivCardOptions = {}) {
    super();
    this.touch = o.touch ?? 'granted';
    this.touchTimeoutMs = o.touchTimeoutMs ?? 0;
    this.s = o.state ?? factoryPivState();
    this.persistFn = o.persist;
    this.extended = o.extendedLength ?? true;
    this.maxResponse = o.maxResponseSize ?? Infinity;
  }

  /** Serial as cardca reports it (the decimal YubiKey serial). */
  get serial(): string {
    return String(this.s.serial);
  }

  get signatureCount(): number {
    return this.s.signatureCount;
  }

  pinTriesLeft(): number {
    return this.s.pin.retries;
  }

  snapshot(): PivStateData {
    return structuredClone(this.s);
  }

  override atr(): Uint8Array {
    return PIV_ATR.slice();
  }

  protected override clearVolatile(): void {
    // The PIV application is the default application of a YubiKey: selected after reset.
    this.selected = true;
    this.pinVerified = false;
    this.pinFresh = false;
    this.mgmtAuthenticated = false;
    this.witness = undefined;
    this.chain.reset();
    this.response.reset();
  }

  /** `durable: false` only for a change of signature counters (state-file.ts SaveOptions). */
  private persist(durable = true): void {
    this.persistFn?.(this.s, { durable });
  }

  override async process(command: Uint8Array): Promise<Uint8Array> {
    try {
      if (!this.powered) return sw(SW.NO_PRECISE_DIAGNOSIS);
      const a = parseCommandApdu(command);
      if (a.extended && !this.extended) fail(SW.WRONG_LENGTH);
      if ((a.cla & ~0x10) !== 0x00) fail(SW.CLA_NOT_SUPPORTED);
      if (a.ins === 0xc0) return this.response.getResponse(this.limit(a));
      this.response.reset();
      // Command chaining (ISO 7816-4 §5.1.1.1): collect the parts of one command.
      const full = this.chain.accept(a);
      if (!full) return sw(SW.OK);
      const r = await this.dispatch(full);
      // More than Ne (or the T=0-style limit): first part + 61xx (ISO 7816-4 §5.3.4).
      return this.response.shape(r.data ?? new Uint8Array(0), r.sw ?? SW.OK, this.limit(full));
    } catch (err) {
      if (err instanceof CardStatus) return sw(err.sw);
      return sw(SW.NO_PRECISE_DIAGNOSIS);
    }
  }

  private limit(a: CommandApdu): number {
    return Math.min(a.ne === 0 ? 256 : a.ne, this.maxResponse);
  }

  private async dispatch(a: CommandApdu): Promise<Reply> {
    if (a.ins === 0xa4) return this.select(a);
    if (!this.selected) fail(SW.INS_NOT_SUPPORTED);
    switch (a.ins) {
      case 0xcb: return this.getData(a);
      case 0xdb: return this.putData(a);
      case 0x20: return this.verify(a);
      case 0x24: return this.changeReference(a);
      case 0x2c: return this.resetRetryCounter(a);
      case 0x87: return await this.generalAuthenticate(a);
      case 0x47: return this.generate(a);
      case 0xfe: return this.importKey(a);
      case 0xfd: return { data: Uint8Array.from(this.s.version) };
      case 0xf8: return { data: Uint8Array.of((this.s.serial >>> 24) & 0xff, (this.s.serial >>> 16) & 0xff, (this.s.serial >>> 8) & 0xff, this.s.serial & 0xff) };
      case 0xf7: return this.metadata(a);
      case 0xf9: return this.attest(a);
      case 0xff: return this.setManagementKey(a);
      case 0xfa: return this.setPinRetries(a);
      case 0xfb: return this.factoryReset();
      default: return fail(SW.INS_NOT_SUPPORTED);
    }
  }

  private select(a: CommandApdu): Reply {
    if (a.p1 !== 0x04) fail(SW.FILE_NOT_FOUND);
    const aid = a.data;
    const full = Uint8Array.from([...PIV_RID, ...PIV_PIX]);
    // Partial selection by a prefix of at least the RID (ISO 7816-4 §12.2.2.1).
    const ok = aid.length >= 5 && aid.length <= full.length && aid.every((b, i) => b === full[i]);
    if (!ok) {
      this.selected = false;
      fail(SW.FILE_NOT_FOUND);
    }
    this.clearVolatile();
    // Application property template (SP 800-73-4 Part 2 §3.1.1): PIX and the coexistent tag allocation authority.
    return { data: tlv(0x61, tlv(0x4f, PIV_PIX.slice()), tlv(0x79, tlv(0x4f, PIV_RID.slice()))) };
  }

  private objectTagOf(data: Uint8Array): number {
    const tags = parseTlvs(data);
    const t = findTlv(tags, 0x5c);
    if (!t || t.length < 1 || t.length > 3) fail(SW.WRONG_DATA);
    return t.reduce((n, b) => n * 256 + b, 0);
  }

  private getData(a: CommandApdu): Reply {
    if (a.p1 !== 0x3f || a.p2 !== 0xff) fail(SW.WRONG_P1P2);
    const tag = this.objectTagOf(a.data);
    if (tag === OBJECT_TAG.discovery) return { data: DISCOVERY };
    if (tag === OBJECT_TAG.attestationCert) {
      const id = ensureAttestationIdentity(this.s);
      if (id.changed) this.persist();
      return { data: tlv(0x53, tlv(0x70, Buffer.from(this.s.attestation!.certificate, 'base64')), tlv(0x71, Uint8Array.of(0)), tlv(0xfe)) };
    }
    const hex = this.s.objects[tagHex(tag)];
    if (hex === undefined) fail(SW.FILE_NOT_FOUND);
    return { data: tlv(0x53, Buffer.from(hex, 'hex')) };
  }

  private putData(a: CommandApdu): Reply {
    if (a.p1 !== 0x3f || a.p2 !== 0xff) fail(SW.WRONG_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_NOT_SATISFIED);
    const tags = parseTlvs(a.data);
    const tag = this.objectTagOf(a.data);
    const content = findTlv(tags, 0x53);
    if (content === undefined || tag === OBJECT_TAG.discovery || tag <= 0xff) fail(SW.WRONG_DATA);
    if (content.length === 0) delete this.s.objects[tagHex(tag)];
    else this.s.objects[tagHex(tag)] = Buffer.from(content).toString('hex').toUpperCase();
    this.persist();
    return {};
  }

  private pinOf(ref: number): PivStoredPin {
    if (ref === KEY_REF.pin) return this.s.pin;
    if (ref === KEY_REF.puk) return this.s.puk;
    return fail(SW.REF_DATA_NOT_FOUND);
  }

  /** Check a padded PIN against its record; a wrong one costs exactly one try. */
  private check(rec: PivStoredPin, padded: Uint8Array): void {
    if (rec.retries === 0) fail(SW.AUTH_BLOCKED);
    if (padded.length !== 8) fail(SW.WRONG_DATA);
    const pin = unpad(padded);
    if (!pinMatches(rec, pin)) {
      rec.retries--;
      this.persist();
      fail(triesLeftSw(rec.retries));
    }
    if (rec.retries !== rec.maxRetries) {
      rec.retries = rec.maxRetries;
      this.persist();
    }
  }

  private verify(a: CommandApdu): Reply {
    if (a.p2 !== KEY_REF.pin) fail(SW.REF_DATA_NOT_FOUND);
    if (a.p1 === 0xff) {
      // SP 800-73-4 Part 2 §3.2.1: P1 FF resets the security status of the PIN.
      this.pinVerified = false;
      this.pinFresh = false;
      return {};
    }
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    const rec = this.s.pin;
    if (a.data.length === 0) {
      // The status query: spends no try.
      if (rec.retries === 0) fail(SW.AUTH_BLOCKED);
      return this.pinVerified ? {} : { sw: triesLeftSw(rec.retries) };
    }
    this.pinVerified = false;
    this.check(rec, a.data);
    this.pinVerified = true;
    this.pinFresh = true;
    return {};
  }

  private changeReference(a: CommandApdu): Reply {
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    const rec = this.pinOf(a.p2);
    if (a.data.length !== 16) fail(SW.WRONG_DATA);
    this.check(rec, a.data.subarray(0, 8));
    const next = unpad(a.data.subarray(8));
    if (next.length < (a.p2 === KEY_REF.pin ? 6 : 6)) fail(SW.WRONG_DATA);
    this.replacePin(a.p2, next);
    return {};
  }

  private replacePin(ref: number, pin: Uint8Array): void {
    const rec = this.pinOf(ref);
    const next: PivStoredPin = { ...pinRecord(pin, rec.maxRetries), isDefault: false };
    if (ref === KEY_REF.pin) this.s.pin = next;
    else this.s.puk = next;
    this.persist();
  }

  private resetRetryCounter(a: CommandApdu): Reply {
    if (a.p1 !== 0x00 || a.p2 !== KEY_REF.pin) fail(SW.WRONG_P1P2);
    if (a.data.length !== 16) fail(SW.WRONG_DATA);
    this.check(this.s.puk, a.data.subarray(0, 8));
    const next = unpad(a.data.subarray(8));
    if (next.length < 6) fail(SW.WRONG_DATA);
    this.replacePin(KEY_REF.pin, next);
    return {};
  }

  private async generalAuthenticate(a: CommandApdu): Promise<Reply> {
    const outer = parseTlvs(a.data);
    const t = findTlv(outer, 0x7c);
    if (t === undefined) fail(SW.WRONG_DATA);
    const inner = parseTlvs(t);
    if (a.p2 === KEY_REF.management) return this.mgmtAuthenticate(a.p1, inner);
    const key = this.s.keys[slotHex(a.p2)];
    if (!key) fail(SW.REF_DATA_NOT_FOUND);
    if (key.alg !== a.p1) fail(SW.WRONG_DATA);
    const challenge = findTlv(inner, 0x81);
    if (findTlv(inner, 0x82) === undefined || challenge === undefined) fail(SW.WRONG_DATA);
    this.requirePin(key);
    if ((key.touchPolicy === 0x02 || key.touchPolicy === 0x03) && this.touch === 'timeout') {
      // Nobody touched the sensor: the YubiKey gives up and answers 6982 (security status).
      if (this.touchTimeoutMs > 0) await new Promise((r) => setTimeout(r, this.touchTimeoutMs));
      fail(SW.SECURITY_NOT_SATISFIED);
    }
    const spec = KEY_ALG[key.alg]!;
    const pkcs8 = Buffer.from(key.pkcs8, 'base64');
    let sig: Uint8Array;
    if (spec.kind === 'rsa') {
      sig = rsaRaw(pkcs8, challenge);
    } else {
      const size = spec.curve === 'P-256' ? 32 : 48;
      if (challenge.length === 0 || challenge.length > size) fail(SW.WRONG_DATA);
      sig = ecdsaSignHash(pkcs8, spec.curve, challenge);
    }
    key.signatures++;
    this.s.signatureCount++;
    this.persist(false);
    return { data: tlv(0x7c, tlv(0x82, sig)) };
  }

  /** YubiKey PIN policy: never, once per session, or a fresh VERIFY before every use. */
  private requirePin(key: PivStoredKey): void {
    if (key.pinPolicy === 0x01) return;
    if (!this.pinVerified) fail(SW.SECURITY_NOT_SATISFIED);
    if (key.pinPolicy === 0x03) {
      if (!this.pinFresh) fail(SW.SECURITY_NOT_SATISFIED);
      this.pinFresh = false;
    }
  }

  /** Mutual challenge-response with the management key (SP 800-73-4 Part 2 Appendix A.1). */
  private mgmtAuthenticate(alg: number, inner: ReturnType<typeof parseTlvs>): Reply {
    const m = this.s.mgmt;
    if (alg !== mgmtAlgId(m.alg)) fail(SW.WRONG_P1P2);
    const key = Buffer.from(m.key, 'hex');
    const bs = mgmtBlockSize(m.alg);
    const witness = findTlv(inner, 0x80);
    const challenge = findTlv(inner, 0x81);
    if (witness !== undefined && witness.length === 0 && challenge === undefined) {
      this.mgmtAuthenticated = false;
      this.witness = randomBytes(bs);
      return { data: tlv(0x7c, tlv(0x80, mgmtEncrypt(m.alg, key, this.witness))) };
    }
    if (witness !== undefined && challenge !== undefined) {
      const expected = this.witness;
      this.witness = undefined;
      if (!expected || witness.length !== bs || !Buffer.from(witness).equals(Buffer.from(expected))) fail(SW.SECURITY_NOT_SATISFIED);
      if (challenge.length !== bs) fail(SW.WRONG_DATA);
      this.mgmtAuthenticated = true;
      return { data: tlv(0x7c, tlv(0x82, mgmtEncrypt(m.alg, key, challenge))) };
    }
    return fail(SW.WRONG_DATA);
  }

  private async generate(a: CommandApdu): Promise<Reply> {
    if (a.p1 !== 0x00 || !KEY_SLOTS.includes(a.p2)) fail(SW.WRONG_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_NOT_SATISFIED);
    const ac = findTlv(parseTlvs(a.data), 0xac);
    if (ac === undefined) fail(SW.WRONG_DATA);
    const t = parseTlvs(ac);
    const alg = findTlv(t, 0x80);
    if (!alg || alg.length !== 1 || KEY_ALG[alg[0]!] === undefined) fail(SW.WRONG_DATA);
    const pinPolicy = findTlv(t, 0xaa)?.[0] ?? 0;
    const touchPolicy = findTlv(t, 0xab)?.[0] ?? 0;
    if (pinPolicy > 3 || touchPolicy > 3) fail(SW.WRONG_DATA);
    const spec = KEY_ALG[alg[0]!]!;
    // RSA-3072 and RSA-4096 arrived with YubiKey firmware 5.7; older tokens answer 6A80.
    if (spec.kind === 'rsa' && spec.bits > 2048 && !atLeast(this.s.version, [5, 7, 0])) fail(SW.WRONG_DATA);
    const gen = await generateCardKey(spec.kind === 'rsa' ? { kind: 'rsa', bits: spec.bits, exponent: 65537 } : spec);
    const key: PivStoredKey = {
      alg: alg[0]!,
      pkcs8: Buffer.from(gen.pkcs8).toString('base64'),
      pinPolicy: pinPolicy === 0 ? defaultPinPolicy(a.p2) : pinPolicy,
      touchPolicy: touchPolicy === 0 ? 0x01 : touchPolicy,
      origin: 'generated',
      signatures: 0,
      createdAt: new Date().toISOString(),
    };
    this.s.keys[slotHex(a.p2)] = key;
    this.persist();
    return { data: tlv(0x7f49, publicKeyTemplate(key)) };
  }

  /**
   * Yubico IMPORT ASYMMETRIC KEY `00 FE <alg> <slot>` (what `yubico-piv-tool -a import-key`
   * sends): RSA as CRT parts, tags 01 p, 02 q, 03 dp, 04 dq, 05 qInv (public exponent 65537, the
   * only one a YubiKey takes); EC as tag 06, the private scalar; AA/AB PIN and touch policy.
   * Inconsistent parts are refused (6A80), as the token does; the key's origin is "imported".
   */
  private importKey(a: CommandApdu): Reply {
    if (!KEY_SLOTS.includes(a.p2)) fail(SW.WRONG_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_NOT_SATISFIED);
    const spec = KEY_ALG[a.p1];
    if (!spec) fail(SW.WRONG_P1P2);
    if (spec.kind === 'rsa' && spec.bits > 2048 && !atLeast(this.s.version, [5, 7, 0])) fail(SW.WRONG_P1P2);
    const t = parseTlvs(a.data);
    const pinPolicy = findTlv(t, 0xaa)?.[0] ?? 0;
    const touchPolicy = findTlv(t, 0xab)?.[0] ?? 0;
    if (pinPolicy > 3 || touchPolicy > 3) fail(SW.WRONG_DATA);
    let pkcs8: Buffer;
    try {
      pkcs8 = spec.kind === 'rsa' ? rsaFromCrt(t, spec.bits) : ecFromScalar(findTlv(t, 0x06), spec.curve);
    } catch {
      return fail(SW.WRONG_DATA);
    }
    this.s.keys[slotHex(a.p2)] = {
      alg: a.p1,
      pkcs8: pkcs8.toString('base64'),
      pinPolicy: pinPolicy === 0 ? defaultPinPolicy(a.p2) : pinPolicy,
      touchPolicy: touchPolicy === 0 ? 0x01 : touchPolicy,
      origin: 'imported',
      signatures: 0,
      createdAt: new Date().toISOString(),
    };
    this.persist();
    return {};
  }

  private metadata(a: CommandApdu): Reply {
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    if (a.p2 === KEY_REF.pin || a.p2 === KEY_REF.puk) {
      const rec = this.pinOf(a.p2);
      return {
        data: new Uint8Array(Buffer.concat([
          tlv(METADATA_TAG.algorithm, Uint8Array.of(0xff)),
          tlv(METADATA_TAG.policy, Uint8Array.of(0x00, 0x00)),
          tlv(METADATA_TAG.isDefault, Uint8Array.of(rec.isDefault ? 1 : 0)),
          tlv(METADATA_TAG.retries, Uint8Array.of(rec.maxRetries, rec.retries)),
        ])),
      };
    }
    if (a.p2 === KEY_REF.management) {
      const m = this.s.mgmt;
      return {
        data: new Uint8Array(Buffer.concat([
          tlv(METADATA_TAG.algorithm, Uint8Array.of(mgmtAlgId(m.alg))),
          tlv(METADATA_TAG.policy, Uint8Array.of(0x00, m.touch ? 0x02 : 0x01)),
          tlv(METADATA_TAG.isDefault, Uint8Array.of(m.isDefault ? 1 : 0)),
        ])),
      };
    }
    const key = this.s.keys[slotHex(a.p2)];
    if (!key) fail(SW.REF_DATA_NOT_FOUND);
    return {
      data: new Uint8Array(Buffer.concat([
        tlv(METADATA_TAG.algorithm, Uint8Array.of(key.alg)),
        tlv(METADATA_TAG.policy, Uint8Array.of(key.pinPolicy, key.touchPolicy)),
        tlv(METADATA_TAG.origin, Uint8Array.of(key.origin === 'generated' ? 1 : 2)),
        tlv(METADATA_TAG.publicKey, publicKeyTemplate(key)),
      ])),
    };
  }

  private attest(a: CommandApdu): Reply {
    const key = this.s.keys[slotHex(a.p1)];
    if (!key) fail(SW.REF_DATA_NOT_FOUND);
    // A YubiKey attests only keys it generated itself.
    if (key.origin !== 'generated') fail(SW.WRONG_DATA);
    const id = ensureAttestationIdentity(this.s);
    if (id.changed) this.persist();
    return { data: createAttestation(this.s, a.p1, key) };
  }

  private setManagementKey(a: CommandApdu): Reply {
    if (a.p1 !== 0xff || (a.p2 !== 0xff && a.p2 !== 0xfe)) fail(SW.WRONG_P1P2);
    if (!this.mgmtAuthenticated) fail(SW.SECURITY_NOT_SATISFIED);
    const d = a.data;
    const alg = MGMT_ALG_BY_ID[d[0] ?? -1];
    if (!alg || d[1] !== KEY_REF.management || d.length !== 3 + (d[2] ?? 0)) fail(SW.WRONG_DATA);
    const key = d.subarray(3);
    try {
      mgmtEncrypt(alg, key, new Uint8Array(mgmtBlockSize(alg)));
    } catch {
      fail(SW.WRONG_DATA);
    }
    this.s.mgmt = { alg, key: Buffer.from(key).toString('hex').toUpperCase(), isDefault: false, touch: a.p2 === 0xfe };
    this.persist();
    return {};
  }

  private setPinRetries(a: CommandApdu): Reply {
    if (!this.mgmtAuthenticated || !this.pinVerified) fail(SW.SECURITY_NOT_SATISFIED);
    if (a.p1 < 1 || a.p1 > 255 || a.p2 < 1 || a.p2 > 255) fail(SW.WRONG_P1P2);
    // Yubico: setting the retry counters also resets PIN and PUK to their factory values.
    const f = factoryPivState(new Date(), this.s.serial);
    this.s.pin = { ...f.pin, retries: a.p1, maxRetries: a.p1 };
    this.s.puk = { ...f.puk, retries: a.p2, maxRetries: a.p2 };
    this.persist();
    return {};
  }

  private factoryReset(): Reply {
    if (this.s.pin.retries !== 0 || this.s.puk.retries !== 0) fail(SW.CONDITIONS_NOT_SATISFIED);
    this.s = resetPivState(this.s);
    this.clearVolatile();
    this.persist();
    return {};
  }
}

/** 7F49 content: RSA `81 n 82 e`, EC `86 04‖X‖Y` (SP 800-73-4 Part 2 Table 11). */
export function publicKeyTemplate(key: PivStoredKey): Uint8Array {
  const spec = KEY_ALG[key.alg]!;
  const pkcs8 = Buffer.from(key.pkcs8, 'base64');
  if (spec.kind === 'rsa') {
    const { n, e } = rsaPublic(pkcs8);
    return new Uint8Array(Buffer.concat([tlv(0x81, n), tlv(0x82, e)]));
  }
  const parts = ecParts(pkcs8, spec.curve);
  parts.d.fill(0);
  return tlv(0x86, parts.q);
}

function tagHex(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(6, '0');
}

/** Strip the FF padding of a PIV PIN (SP 800-73-4 Part 2 §2.4.3). */
function unpad(padded: Uint8Array): Uint8Array {
  let n = padded.length;
  while (n > 0 && padded[n - 1] === 0xff) n--;
  return padded.slice(0, n);
}

function sw(s: number): Uint8Array {
  return Uint8Array.of(s >> 8, s & 0xff);
}

const big = (b: Uint8Array): bigint => BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
function b64u(n: bigint): string {
  let h = n.toString(16);
  if (h.length % 2) h = `0${h}`;
  return Buffer.from(h, 'hex').toString('base64url');
}

/** A PKCS#8 RSA key from the CRT parts of an import (e = 65537), checked for consistency. */
function rsaFromCrt(t: ReturnType<typeof parseTlvs>, bits: number): Buffer {
  const part = (tag: number): bigint => {
    const v = findTlv(t, tag);
    if (!v || v.length === 0) throw new RangeError(`tag ${tag} missing`);
    return big(v);
  };
  const [p, q, dp, dq, qi] = [part(1), part(2), part(3), part(4), part(5)];
  const n = p * q;
  const e = 65537n;
  if (n.toString(2).length !== bits) throw new RangeError('modulus size does not match the algorithm');
  const d = modInv(e, (p - 1n) * (q - 1n));
  if (d % (p - 1n) !== dp || d % (q - 1n) !== dq || (qi * q) % p !== 1n) throw new RangeError('inconsistent CRT parts');
  const jwk = { kty: 'RSA', n: b64u(n), e: b64u(e), d: b64u(d), p: b64u(p), q: b64u(q), dp: b64u(dp), dq: b64u(dq), qi: b64u(qi) };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' });
}

/** A PKCS#8 EC key from the private scalar of an import (the public point is derived). */
function ecFromScalar(d: Uint8Array | undefined, curve: CurveName): Buffer {
  const size = curve === 'P-256' ? 32 : 48;
  if (!d || d.length !== size) throw new RangeError('private scalar of the wrong size');
  const ecdh = createECDH(curve === 'P-256' ? 'prime256v1' : 'secp384r1');
  ecdh.setPrivateKey(Buffer.from(d));
  const pub = ecdh.getPublicKey();
  const jwk = { kty: 'EC', crv: curve, d: Buffer.from(d).toString('base64url'), x: pub.subarray(1, 1 + size).toString('base64url'), y: pub.subarray(1 + size).toString('base64url') };
  return createPrivateKey({ key: jwk, format: 'jwk' }).export({ type: 'pkcs8', format: 'der' });
}
