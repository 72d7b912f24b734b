import type { PersistState } from './state-file.js';
import { randomBytes } from 'node:crypto';
import { constants, privateDecrypt } from 'node:crypto';
import { digestInfo, ecdsaSignHash, ecParts, generateCardKey, loadPrivateKey, rsaPkcs1, rsaPublic, rsaRaw } from './card-crypto.js';
import { pinMatches, pinRecord, type StoredPin } from './card-state.js';
import { parseCommandApdu, type CommandApdu } from './command-apdu.js';
import { CommandChain } from './command-chain.js';
import { ResponseChain } from './response-chain.js';
import { curves } from './ec-curves.js';
import { factoryMyeidState, initialisedFileSystem, PKCS15_AID, type MyeidFile, type MyeidKeySpec, type MyeidStateData } from './myeid-state.js';
import { PoweredCard } from './powered-card.js';
import { CardStatus, fail, SW, triesLeftSw } from './status-words.js';
import { findTlv, parseTlvs, tlv } from './tlv.js';

/**
 * ATR of the emulated MyEID: T=1, historical bytes "cardcaEMU" ‖ "MyEID". OpenSC matches a MyEID
 * on the last five historical bytes ("MyEID"; card-myeid.c `myeid_match_card` allows a prefix),
 * so OpenSC treats it as the real card; cardca's driver reads the "cardcaEMU" prefix, which no
 * Aventra card carries, as the proof that the card is an emulator (DeviceInfo.emulated).
 */
export const MYEID_EMULATOR_HISTORICAL = new TextEncoder().encode('cardcaEMUMyEID');
export const MYEID_ATR = withTck(Uint8Array.from([0x3b, 0xf0 | MYEID_EMULATOR_HISTORICAL.length, 0x18, 0x00, 0x00, 0x81, 0x31, 0xfe, 0x45, ...MYEID_EMULATOR_HISTORICAL]));

function withTck(b: Uint8Array): Uint8Array {
  let x = 0;
  for (let i = 1; i < b.length; i++) x ^= b[i]!;
  return Uint8Array.from([...b, x]);
}

/** FCP life-cycle byte (ISO 7816-4 §5.3.3.2 table 13): 01 creation, 05 operational (activated). */
const LCS = { creation: 0x01, operational: 0x05 } as const;
/** ACL slots of the three FCP 86 bytes (card-myeid.c `parse_sec_attr`): nibble index per operation. */
const ACL_SLOT = { read: 0, crypto: 0, create: 0, update: 1, delete: 2, generate: 3 } as const;
type AclOp = keyof typeof ACL_SLOT;

const RSA_SIZES = new Set([512, 768, 1024, 1536, 2048]);
/** Capability bytes (GET DATA 01 AA): RSA | ECC; RSA up to 2048, no DES/AES, EC up to 384 (P-256, P-384). */
const CAPS = Uint8Array.from([0x01, 0x00, 0x09, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x80]);

export interface MyeidCardOptions {
  state?: MyeidStateData;
  persist?: PersistState<MyeidStateData>;
}

interface SecurityEnv {
  operation: 'sign' | 'decipher';
  alg: number;
  keyPath: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/**
 * An emulated Aventra MyEID (PKCS#15 applet, v4.5): a real ISO 7816-4 file system with the
 * commands OpenSC's `card-myeid.c` and `pkcs15init/pkcs15-myeid.c` send — SELECT (by FID, path,
 * DF name), READ/UPDATE BINARY, CREATE/DELETE FILE with the three-byte MyEID ACLs, VERIFY with
 * the tries-left query, CHANGE REFERENCE DATA, RESET RETRY COUNTER, LOGOUT, PUT DATA (initialise
 * applet, PIN records), GET DATA (applet info, capabilities, public keys, file list), GENERATE,
 * MSE SET, PSO COMPUTE DIGITAL SIGNATURE / DECIPHER (with the 81/82 half blocks), ACTIVATE, GET
 * CHALLENGE. Short APDUs only; command chaining from v4.5 (card-myeid.c `cap_chaining`).
 * `process()` never rejects: every failure is a status word.
 */
export class MyeidCard extends PoweredCard {
  private s: MyeidStateData;
  private readonly persistFn: PersistState<MyeidStateData> | undefined;
  // Volatile state.
  private currentDf = '3F00';
  private currentFile = '3F00';
  private verified = new Set<number>();
  private se: SecurityEnv | undefined;
  private readonly chain = new CommandChain();
  private halfBlock: Uint8Array | undefined;
  private readonly response = new ResponseChain();

  constructor(o: MyeidCardOptions = {}) {
    super();
    this.s = o.state ?? factoryMyeidState();
    this.persistFn = o.persist;
  }

  get serial(): string {
    return this.s.serial;
  }

  get signatureCount(): number {
    return this.s.signatureCount;
  }

  snapshot(): MyeidStateData {
    return structuredClone(this.s);
  }

  override atr(): Uint8Array {
    return MYEID_ATR.slice();
  }

  protected override clearVolatile(): void {
    this.currentDf = '3F00';
    this.currentFile = '3F00';
    this.verified.clear();
    this.se = undefined;
    this.chain.reset();
    this.halfBlock = undefined;
    this.response.reset();
  }

  private get chaining(): boolean {
    const [major, minor] = this.s.version;
    return major * 10 + minor >= 45;
  }

  /** `durable: false` only for a change of signature counters (state-file.ts SaveOptions). */
  private persist(changed = true, durable = true): void {
    if (changed) this.s.changeCounter = (this.s.changeCounter + 1) & 0xffff;
    this.persistFn?.(this.s, { durable });
  }

  override async process(command: Uint8Array): Promise<Uint8Array> {
    try {
      if (!this.powered) return sw(SW.NO_PRECISE_DIAGNOSIS);
      const a = parseCommandApdu(command);
      // Short APDUs only (card-myeid.c: max_send_size 255, max_recv_size 256).
      if (a.extended) fail(SW.WRONG_LENGTH);
      // DELETE FILE comes with CLA A0 (card-myeid.c `myeid_delete_file`); everything else with 00/10.
      if (a.cla !== 0x00 && a.cla !== 0x10 && !(a.cla === 0xa0 && a.ins === 0xe4)) fail(SW.CLA_NOT_SUPPORTED);
      if (a.ins === 0xc0) return this.response.getResponse(a.ne === 0 ? 256 : a.ne);
      this.response.reset();
      if (a.cla & 0x10 && !this.chaining) fail(SW.CHAINING_NOT_SUPPORTED);
      // Command chaining (ISO 7816-4 §5.1.1.1): collect the parts of one command.
      const full = this.chain.accept(a);
      if (!full) return sw(SW.OK);
      const data = await this.dispatch(full);
      // More than Ne: first part + 61xx, the rest by GET RESPONSE (ISO 7816-4 §5.3.4).
      return this.response.shape(data ?? new Uint8Array(0), SW.OK, full.ne === 0 ? 256 : full.ne);
    } catch (err) {
      if (err instanceof CardStatus) return sw(err.sw);
      return sw(SW.NO_PRECISE_DIAGNOSIS);
    }
  }

  private async dispatch(a: CommandApdu): Promise<Uint8Array | undefined> {
    if (a.ins !== 0x2a) this.halfBlock = undefined;
    switch (a.ins) {
      case 0xa4: return this.select(a);
      case 0xb0: return this.readBinary(a);
      case 0xd6: return this.updateBinary(a);
      case 0xe0: return this.createFile(a);
      case 0xe4: return this.deleteFile();
      case 0x20: return this.verify(a);
      case 0x24: return this.changeReference(a);
      case 0x2c: return this.resetRetryCounter(a);
      case 0x2e: return this.logout(a);
      case 0xca: return this.getData(a);
      case 0xda: return this.putData(a);
      case 0x46: return this.generate(a);
      case 0x22: return this.manageSecurityEnvironment(a);
      case 0x2a: return this.performSecurityOperation(a);
      case 0x44: return this.activate(a);
      case 0x84: return new Uint8Array(randomBytes(a.ne === 0 ? 8 : a.ne));
      default: return fail(SW.INS_NOT_SUPPORTED);
    }
  }

  // ---- file system ----

  private file(path: string): MyeidFile {
    const f = this.s.files[path];
    if (!f) fail(SW.FILE_NOT_FOUND);
    return f;
  }

  private parentOf(path: string): string {
    return path.length > 4 ? path.slice(0, -4) : path;
  }

  private childrenOf(df: string): string[] {
    return Object.keys(this.s.files).filter((p) => p.length === df.length + 4 && p.startsWith(df));
  }

  private operational(): boolean {
    return this.s.lifeCycle === 'operational';
  }

  /** ACL nibble for `op` of file `f`; 0 always, 1..E that PIN verified, F never. Not enforced in creation state. */
  private check(f: MyeidFile, op: AclOp): void {
    if (!this.operational()) return;
    const acl = bytes(f.acl);
    const slot = ACL_SLOT[op];
    const nibble = slot % 2 === 0 ? acl[slot >> 1]! >> 4 : acl[slot >> 1]! & 0x0f;
    if (nibble === 0) return;
    if (nibble === 0x0f) fail(SW.SECURITY_NOT_SATISFIED);
    if (!this.verified.has(nibble)) fail(SW.SECURITY_NOT_SATISFIED);
  }

  private fcp(path: string): Uint8Array {
    const f = this.file(path);
    const parts = [
      tlv(f.type === 'ef' ? 0x80 : 0x81, u16(f.type === 'df' ? 0 : f.size)),
      tlv(0x82, Uint8Array.of(f.descriptor)),
      tlv(0x83, bytes(path.slice(-4))),
      ...(f.name ? [tlv(0x84, bytes(f.name))] : []),
      tlv(0x85, bytes(f.prop)),
      tlv(0x86, bytes(f.acl)),
      tlv(0x8a, Uint8Array.of(LCS[this.s.lifeCycle])),
    ];
    return tlv(0x62, ...parts);
  }

  private selectPath(path: string): Uint8Array {
    this.file(path);
    this.currentFile = path;
    this.currentDf = this.s.files[path]!.type === 'df' ? path : this.parentOf(path);
    return this.fcp(path);
  }

  private select(a: CommandApdu): Uint8Array | undefined {
    let target: string | undefined;
    const d = hex(a.data);
    switch (a.p1) {
      case 0x00: {
        if (d === '' || d === '3F00') target = '3F00';
        else if (d.length !== 4) fail(SW.WRONG_DATA);
        else {
          // Current DF's children, the current DF itself, its parent, the parent's children (ISO 7816-4 §7.1.1).
          const df = this.currentDf;
          const parent = this.parentOf(df);
          target = [df + d, df.endsWith(d) ? df : '', parent.endsWith(d) ? parent : '', parent + d].find((p) => p && this.s.files[p]);
        }
        break;
      }
      case 0x01:
      case 0x02: {
        const p = this.currentDf + d;
        const f = this.s.files[p];
        if (f && (a.p1 === 0x01) === (f.type === 'df')) target = p;
        break;
      }
      case 0x03:
        target = this.parentOf(this.currentDf);
        break;
      case 0x04: {
        // The PKCS#15 AID is the applet's: selecting it selects DF 5015 when it exists, else the MF.
        const named = Object.keys(this.s.files).find((p) => this.s.files[p]!.name === d);
        if (named) target = named;
        else if (d === hex(PKCS15_AID)) target = '3F00';
        break;
      }
      case 0x08:
      case 0x09: {
        if (d.length === 0 || d.length % 4 !== 0) fail(SW.WRONG_DATA);
        const base = a.p1 === 0x08 ? '3F00' : this.currentDf;
        target = d.startsWith('3F00') && a.p1 === 0x08 ? d : base + d;
        break;
      }
      default:
        fail(SW.WRONG_P1P2);
    }
    if (!target || !this.s.files[target]) fail(SW.FILE_NOT_FOUND);
    const fcp = this.selectPath(target);
    return (a.p2 & 0x0c) === 0x0c ? undefined : fcp;
  }

  private currentEf(): MyeidFile {
    const f = this.file(this.currentFile);
    if (f.type !== 'ef') fail(0x6981); // command incompatible with file structure
    return f;
  }

  private readBinary(a: CommandApdu): Uint8Array {
    if (a.p1 & 0x80) fail(SW.FUNC_NOT_SUPPORTED);
    const f = this.currentEf();
    this.check(f, 'read');
    const offset = (a.p1 << 8) | a.p2;
    if (offset >= f.size) fail(SW.OFFSET_OUT_OF_RANGE);
    const content = bytes(f.data ?? '');
    return content.subarray(offset, Math.min(f.size, offset + (a.ne === 0 ? 256 : a.ne)));
  }

  private updateBinary(a: CommandApdu): undefined {
    if (a.p1 & 0x80) fail(SW.FUNC_NOT_SUPPORTED);
    const f = this.currentEf();
    this.check(f, 'update');
    const offset = (a.p1 << 8) | a.p2;
    if (offset + a.data.length > f.size) fail(SW.OFFSET_OUT_OF_RANGE);
    const content = bytes(f.data ?? '00'.repeat(f.size));
    content.set(a.data, offset);
    f.data = hex(content);
    this.persist();
    return undefined;
  }

  /** CREATE FILE `62 { 80|81 size, 82 descriptor, 83 FID, [84 name], 85 prop, 86 ACL, 8A LCS }` (card-myeid.c `encode_file_structure`). */
  private createFile(a: CommandApdu): undefined {
    const outer = parseTlvs(a.data);
    const fcp = findTlv(outer, 0x62);
    if (!fcp) fail(SW.WRONG_DATA);
    const t = parseTlvs(fcp);
    const size = findTlv(t, 0x80) ?? findTlv(t, 0x81);
    const desc = findTlv(t, 0x82);
    const fid = findTlv(t, 0x83);
    const acl = findTlv(t, 0x86) ?? Uint8Array.of(0x00, 0x00, 0xff);
    const prop = findTlv(t, 0x85) ?? Uint8Array.of(0, 0);
    const name = findTlv(t, 0x84);
    if (!desc || desc.length !== 1 || !fid || fid.length !== 2 || acl.length !== 3 || prop.length !== 2) fail(SW.WRONG_DATA);
    const fidHex = hex(fid);
    if (fidHex === '3F00' || fidHex === 'FFFF') fail(SW.WRONG_DATA);
    const df = this.file(this.currentDf);
    this.check(df, 'create');
    const path = this.currentDf + fidHex;
    if (this.s.files[path] || this.childrenOf(this.currentDf).some((p) => this.s.files[p]!.name !== undefined && name && this.s.files[p]!.name === hex(name))) {
      fail(SW.FILE_EXISTS);
    }
    const n = size && size.length === 2 ? (size[0]! << 8) | size[1]! : 0;
    let file: MyeidFile;
    switch (desc[0]) {
      case 0x38:
        file = { type: 'df', descriptor: 0x38, size: 0, acl: hex(acl), prop: hex(prop), ...(name ? { name: hex(name) } : {}) };
        break;
      case 0x01:
        if (n === 0 || n > 0x7fff) fail(SW.WRONG_DATA);
        file = { type: 'ef', descriptor: 0x01, size: n, acl: hex(acl), prop: hex(prop), data: '00'.repeat(n) };
        break;
      case 0x11:
        if (!RSA_SIZES.has(n)) fail(SW.WRONG_DATA);
        file = { type: 'key', descriptor: 0x11, size: n, acl: hex(acl), prop: hex(prop) };
        break;
      case 0x22:
        if (!curves().some((c) => c.bits === n && isNist(c.name))) fail(SW.WRONG_DATA);
        file = { type: 'key', descriptor: 0x22, size: n, acl: hex(acl), prop: hex(prop) };
        break;
      default:
        return fail(SW.WRONG_DATA);
    }
    this.s.files[path] = file;
    this.persist();
    // CREATE FILE selects the new file (ISO 7816-9 §8.1).
    this.selectPath(path);
    return undefined;
  }

  private deleteFile(): undefined {
    const path = this.currentFile;
    if (path === '3F00') fail(SW.CONDITIONS_NOT_SATISFIED);
    const f = this.file(path);
    this.check(f, 'delete');
    for (const p of Object.keys(this.s.files)) if (p.startsWith(path)) delete this.s.files[p];
    this.persist();
    this.selectPath(this.parentOf(path));
    return undefined;
  }

  // ---- PINs ----

  private pinRecordOf(ref: number): { pin: StoredPin; puk: StoredPin } {
    const rec = this.s.pins[String(ref)];
    if (!rec) fail(SW.REF_DATA_NOT_FOUND);
    return rec;
  }

  /** ASCII PIN, FF-padded to 8 bytes (card-myeid.c `myeid_pin_cmd`: pad_length 8, pad_char FF). */
  private padded(value: Uint8Array): Uint8Array {
    if (value.length === 0 || value.length > 8) fail(SW.WRONG_LENGTH);
    const out = new Uint8Array(8).fill(0xff);
    out.set(value);
    return out;
  }

  private present(rec: StoredPin, value: Uint8Array): void {
    if (rec.retries === 0) fail(SW.AUTH_BLOCKED);
    const p = this.padded(value);
    const ok = pinMatches(rec, p);
    p.fill(0);
    if (!ok) {
      rec.retries--;
      this.persist(false);
      fail(triesLeftSw(rec.retries));
    }
    if (rec.retries !== rec.maxRetries) {
      rec.retries = rec.maxRetries;
      this.persist(false);
    }
  }

  private verify(a: CommandApdu): undefined {
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    const ref = a.p2;
    const rec = this.pinRecordOf(ref);
    if (a.data.length === 0) {
      // Status query (ISO 7816-4 §11.5.6): 9000 when verified, else 63Cx or 6983.
      if (this.verified.has(ref)) return undefined;
      fail(rec.pin.retries === 0 ? SW.AUTH_BLOCKED : triesLeftSw(rec.pin.retries));
    }
    this.verified.delete(ref);
    this.present(rec.pin, a.data);
    this.verified.add(ref);
    return undefined;
  }

  /** `00 24 00 ref 10 old(8) ‖ new(8)`. */
  private changeReference(a: CommandApdu): undefined {
    if (a.p1 !== 0x00) fail(SW.WRONG_P1P2);
    const rec = this.pinRecordOf(a.p2);
    if (a.data.length !== 16) fail(SW.WRONG_LENGTH);
    const next = a.data.subarray(8);
    this.present(rec.pin, trimPad(a.data.subarray(0, 8)));
    const np = trimPad(next);
    if (np.length < 4) fail(SW.WRONG_DATA);
    rec.pin = pinRecord(this.padded(np), rec.pin.maxRetries);
    this.verified.add(a.p2);
    this.persist(false);
    return undefined;
  }

  /** `00 2C 00 ref 10 puk(8) ‖ new(8)` or `00 2C 01 ref 08 puk(8)` (unblock only). */
  private resetRetryCounter(a: CommandApdu): undefined {
    const rec = this.pinRecordOf(a.p2);
    if (a.p1 === 0x00 && a.data.length === 16) {
      this.present(rec.puk, trimPad(a.data.subarray(0, 8)));
      const np = trimPad(a.data.subarray(8));
      if (np.length < 4) fail(SW.WRONG_DATA);
      rec.pin = pinRecord(this.padded(np), rec.pin.maxRetries);
    } else if (a.p1 === 0x01 && a.data.length === 8) {
      this.present(rec.puk, trimPad(a.data));
      rec.pin.retries = rec.pin.maxRetries;
    } else fail(SW.WRONG_P1P2);
    this.persist(false);
    return undefined;
  }

  private logout(a: CommandApdu): undefined {
    if (a.p2 === 0) this.verified.clear();
    else this.verified.delete(a.p2);
    return undefined;
  }

  // ---- GET DATA / PUT DATA ----

  private appletInfo(): Uint8Array {
    const b = new Uint8Array(20);
    b[5] = Math.floor(this.s.version[0]);
    b[6] = this.s.version[1];
    b[7] = this.s.version[2];
    b.set(bytes(this.s.serial), 8);
    b[18] = (this.s.changeCounter >> 8) & 0xff;
    b[19] = this.s.changeCounter & 0xff;
    return b;
  }

  private selectedKey(): NonNullable<MyeidFile['key']> {
    const f = this.file(this.currentFile);
    if (f.type !== 'key') fail(0x6981);
    if (!f.key) fail(SW.REF_DATA_NOT_FOUND);
    return f.key;
  }

  private getData(a: CommandApdu): Uint8Array {
    if (a.p1 !== 0x01) fail(SW.WRONG_P1P2);
    switch (a.p2) {
      case 0xa0: return this.appletInfo();
      case 0xaa:
        // From applet 4.0 (card-myeid.c `myeid_init` asks only then); a state may give its own.
        if (this.s.version[0] < 4) fail(SW.REF_DATA_NOT_FOUND);
        return this.s.capabilities ? bytes(this.s.capabilities) : CAPS.slice();
      case 0xa1: return new Uint8Array(Buffer.concat(this.childrenOf(this.currentDf).map((p) => bytes(p.slice(-4)))));
      case 0x01: {
        const k = this.selectedKey();
        if (k.spec.kind !== 'rsa') fail(SW.REF_DATA_NOT_FOUND);
        return rsaPublic(bytes64(k.pkcs8)).n;
      }
      case 0x86: {
        const k = this.selectedKey();
        if (k.spec.kind !== 'ec') fail(SW.REF_DATA_NOT_FOUND);
        const parts = ecParts(bytes64(k.pkcs8), k.spec.curve);
        parts.d.fill(0);
        return tlv(0x86, parts.q);
      }
      default:
        return fail(SW.REF_DATA_NOT_FOUND);
    }
  }

  private putData(a: CommandApdu): undefined {
    if (a.p1 !== 0x01) fail(SW.WRONG_P1P2);
    if (a.p2 === 0xe0) return this.initialiseApplet(a.data);
    if (a.p2 >= 0x01 && a.p2 <= 0x0e) return this.storePinRecord(a.p2, a.data);
    // Key component loading (DA 01 80..8x) is not emulated: keys are generated on the card.
    return fail(SW.FUNC_NOT_SUPPORTED);
  }

  /**
   * INITIALISE APPLET (PUT DATA 01 E0, 8 bytes; pkcs15-myeid.c `myeid_get_init_applet_data`):
   * bytes 2..4 the MF's ACL, 5..7 the PKCS#15 DF's. Wipes files, keys and PINs; back to creation.
   * Once operational it needs the MF's DELETE right (pkcs15-myeid.c `myeid_erase_card`).
   */
  private initialiseApplet(data: Uint8Array): undefined {
    if (data.length !== 8) fail(SW.WRONG_LENGTH);
    this.check(this.file('3F00'), 'delete');
    this.s.files = initialisedFileSystem(data.subarray(2, 5), data.subarray(5, 8));
    this.s.pins = {};
    this.s.lifeCycle = 'creation';
    this.verified.clear();
    this.se = undefined;
    this.persist();
    this.selectPath('3F00');
    return undefined;
  }

  /** PIN record (pkcs15-myeid.c `myeid_create_pin`): PIN(8) ‖ PUK(8) ‖ PIN tries ‖ PUK tries ‖ 00. */
  private storePinRecord(ref: number, data: Uint8Array): undefined {
    if (data.length < 18) fail(SW.WRONG_LENGTH);
    this.check(this.file('3F00'), 'create');
    const pinTries = data[16]! || 5;
    const pukTries = data[17]! || 5;
    if (pinTries > 14 || pukTries > 14) fail(SW.WRONG_DATA);
    this.s.pins[String(ref)] = { pin: pinRecord(data.subarray(0, 8), pinTries), puk: pinRecord(data.subarray(8, 16), pukTries) };
    this.verified.delete(ref);
    this.persist();
    return undefined;
  }

  private activate(a: CommandApdu): undefined {
    if (a.p1 !== 0x04 || hex(a.data) !== hex(PKCS15_AID)) fail(SW.WRONG_DATA);
    this.s.lifeCycle = 'operational';
    this.persist();
    return undefined;
  }

  // ---- keys ----

  /** GENERATE KEY on the selected key EF: RSA with `30 05 81 03 <e>`, EC without data (curve from the EF size). */
  private async generate(a: CommandApdu): Promise<undefined> {
    if (a.p1 !== 0x00 || a.p2 !== 0x00) fail(SW.WRONG_P1P2);
    const f = this.file(this.currentFile);
    if (f.type !== 'key') fail(0x6981);
    this.check(f, 'generate');
    let spec: MyeidKeySpec;
    let exponent = 65537;
    if (f.descriptor === 0x11) {
      const outer = findTlv(parseTlvs(a.data), 0x30);
      const e = outer ? findTlv(parseTlvs(outer), 0x81) : undefined;
      if (!e || e.length === 0 || e.length > 4) fail(SW.WRONG_DATA);
      exponent = e.reduce((n, b) => n * 256 + b, 0);
      if (exponent < 3 || exponent % 2 === 0) fail(SW.WRONG_DATA);
      spec = { kind: 'rsa', bits: f.size };
    } else {
      if (a.data.length !== 0) fail(SW.WRONG_DATA);
      const c = curves().find((x) => x.bits === f.size && isNist(x.name));
      if (!c) fail(SW.WRONG_DATA);
      spec = { kind: 'ec', curve: c.name };
    }
    const key = await generateCardKey(spec.kind === 'rsa' ? { kind: 'rsa', bits: spec.bits, exponent } : spec);
    f.key = { spec, pkcs8: Buffer.from(key.pkcs8).toString('base64'), signatures: 0, createdAt: new Date().toISOString() };
    key.pkcs8.fill(0);
    this.persist();
    return undefined;
  }

  /** MSE SET `00 22 41 B6|B8 [80 alg] [81 FID] [84 00]` (card-myeid.c `myeid_set_security_env_rsa/_ec`). */
  private manageSecurityEnvironment(a: CommandApdu): undefined {
    this.se = undefined;
    if (a.p1 !== 0x41 || (a.p2 !== 0xb6 && a.p2 !== 0xb8)) fail(SW.WRONG_P1P2);
    const t = parseTlvs(a.data);
    const alg = findTlv(t, 0x80);
    const fid = findTlv(t, 0x81);
    if (!alg || alg.length !== 1) fail(SW.WRONG_DATA);
    let keyPath: string;
    if (fid) {
      if (fid.length !== 2) fail(SW.WRONG_DATA);
      keyPath = this.currentDf + hex(fid);
    } else keyPath = this.currentFile;
    const f = this.s.files[keyPath];
    if (!f || f.type !== 'key') fail(SW.REF_DATA_NOT_FOUND);
    this.se = { operation: a.p2 === 0xb6 ? 'sign' : 'decipher', alg: alg[0]!, keyPath };
    return undefined;
  }

  private seKey(operation: SecurityEnv['operation']): { f: MyeidFile; key: NonNullable<MyeidFile['key']>; alg: number } {
    const se = this.se;
    if (!se || se.operation !== operation) fail(SW.CONDITIONS_NOT_SATISFIED);
    const f = this.s.files[se.keyPath];
    if (!f || f.type !== 'key' || !f.key) fail(SW.REF_DATA_NOT_FOUND);
    this.check(f, 'crypto');
    return { f, key: f.key, alg: se.alg };
  }

  private performSecurityOperation(a: CommandApdu): Uint8Array | undefined {
    if (a.p1 === 0x9e && a.p2 === 0x9a) return this.sign(a.data);
    if (a.p1 === 0x80 && a.p2 === 0x86) return this.decipher(a.data);
    return fail(SW.WRONG_P1P2);
  }

  private counted(f: MyeidFile, out: Uint8Array): Uint8Array {
    f.key!.signatures++;
    this.s.signatureCount++;
    this.persist(false, false);
    return out;
  }

  /** PSO CDS: alg 00 raw RSA (k bytes), 02 PKCS#1 type 1 over a DigestInfo, 12 the same over a bare SHA-1, 04 ECDSA. */
  private sign(input: Uint8Array): Uint8Array {
    const { f, key, alg } = this.seKey('sign');
    const pkcs8 = bytes64(key.pkcs8);
    if (key.spec.kind === 'rsa') {
      if (alg === 0x00) return this.counted(f, rsaRaw(pkcs8, input));
      if (alg === 0x02) return this.counted(f, rsaPkcs1(pkcs8, input));
      if (alg === 0x12) {
        if (input.length !== 20) fail(SW.WRONG_DATA);
        return this.counted(f, rsaPkcs1(pkcs8, digestInfo('sha1', input)));
      }
      return fail(SW.WRONG_DATA);
    }
    if (alg !== 0x04) fail(SW.WRONG_DATA);
    // The hash arrives left-padded with zeros to the field length (card-myeid.c `myeid_compute_signature`).
    const size = Math.ceil(f.size / 8);
    if (input.length === 0 || input.length > Math.max(size, 64)) fail(SW.WRONG_LENGTH);
    return this.counted(f, ecdsaSignHash(pkcs8, key.spec.curve, input));
  }

  /**
   * PSO DECIPHER `80 86`: padding indicator 00 then the cryptogram; before v4.5 a 2048-bit block
   * comes as two halves with indicators 81 and 82 (card-myeid.c `myeid_transmit_decipher_pi_split`,
   * also used for raw 2048-bit signatures by `myeid_compute_raw_2048_signature`).
   */
  private decipher(data: Uint8Array): Uint8Array | undefined {
    if (data.length < 2) fail(SW.WRONG_LENGTH);
    const pi = data[0]!;
    let block: Uint8Array;
    if (pi === 0x81) {
      this.seKey('decipher');
      this.halfBlock = data.slice(1);
      return undefined;
    } else if (pi === 0x82) {
      const first = this.halfBlock;
      this.halfBlock = undefined;
      if (!first) fail(SW.CONDITIONS_NOT_SATISFIED);
      block = new Uint8Array(Buffer.concat([first, data.subarray(1)]));
    } else if (pi === 0x00) block = data.slice(1);
    else return fail(SW.WRONG_DATA);
    this.halfBlock = undefined;
    const { f, key, alg } = this.seKey('decipher');
    if (key.spec.kind !== 'rsa') fail(SW.CONDITIONS_NOT_SATISFIED);
    const pkcs8 = bytes64(key.pkcs8);
    if (alg === 0x00) return this.counted(f, rsaRaw(pkcs8, block));
    if (alg === 0x02) {
      try {
        return new Uint8Array(privateDecrypt({ key: loadPrivateKey(pkcs8), padding: constants.RSA_PKCS1_PADDING }, block));
      } catch {
        return fail(SW.WRONG_DATA);
      }
    }
    return fail(SW.WRONG_DATA);
  }
}

function isNist(name: string): boolean {
  return name === 'P-256' || name === 'P-384';
}

function trimPad(b: Uint8Array): Uint8Array {
  let n = b.length;
  while (n > 0 && b[n - 1] === 0xff) n--;
  return b.subarray(0, n);
}

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

function bytes64(b64: string): Uint8Array {
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function sw(code: number): Uint8Array {
  return Uint8Array.of(code >> 8, code & 0xff);
}

