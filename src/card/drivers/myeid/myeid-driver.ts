import { createHash, createPublicKey } from 'node:crypto';
import type { KeyAlgorithm } from '../../../crypto/signer.js';
import { concatBytes, fromHex, toHex } from '../../../common/hex.js';
import { emsaPssEncode, hashOfLength } from '../../../crypto/emsa-pss.js';
import { curveOfKeyAlgorithm } from '../../../crypto/ec-curves.js';
import { ecSpki, publicKeyTypeOfSpki } from '../../../crypto/public-key-type.js';
import type { ApduChannel } from '../../apdu/apdu-channel.js';
import { statusWordError, triesLeftOf } from '../../apdu/status-words.js';
import type { CardKeyEntry, CardKeyInfo, PinStatus } from '../../card-service.js';
import { CardError, PinError } from '../../errors.js';
import { readWholeBinary } from '../../iso7816/file-ops.js';
import { changeReferenceData, resetRetryCounter, selectPath, verify, verifyStatus } from '../../iso7816/commands.js';
import { mseSet, psoComputeDigitalSignature, psoDecipherHalves } from '../../iso7816/security-operations.js';
import { splitDirectoryFile } from '../../pkcs15/directory-file.js';
import { Pkcs15Error } from '../../pkcs15/pkcs15-error.js';
import { pathHex } from '../../pkcs15/pkcs15-path.js';
import { readPkcs15Application, readReference, trimDer, type Pkcs15Application, type Pkcs15FileSource, type Pkcs15Pin, type Pkcs15PrivateKey } from '../../pkcs15/pkcs15-reader.js';
import { KeyUsageFlags } from '../../pkcs15/schema/common-attributes.js';
import { findTlv, readAllTlv, readTlv } from '../../tlv.js';
import type { CardDriver, DeviceInfo, DriverCapabilities, DriverFactory, InitOptions, RawSignMode } from '../card-driver.js';
import * as cmd from './myeid-commands.js';
import { personaliseMyeid } from './myeid-personalise-card.js';
import { MYEID_PKCS15_PERSONALISATION } from './myeid-personalise.js';
import { encodeMyeidCertificateEntry, encodeMyeidDataObjectEntry, encodeMyeidPrivateKeyEntry, encodeMyeidPublicKeyEntry } from './myeid-pkcs15-entries.js';

/** Historical bytes end with "MyEID" (or "OsEID", the open-source clone): card-myeid.c `myeid_match_card`. */
const NAMES = ['MyEID', 'OsEID'].map((s) => new TextEncoder().encode(s));
/** cardca's emulator puts this before "MyEID" (src/card/emulator/myeid-card.ts); no Aventra card does. */
const EMULATOR_PREFIX = new TextEncoder().encode('cardcaEMU');

/** Historical bytes of an ATR (ISO 7816-3 §8.2): after T0 and the interface bytes its Y nibbles announce. */
export function historicalBytes(atr: Uint8Array): Uint8Array {
  if (atr.length < 2) return new Uint8Array(0);
  const k = atr[1]! & 0x0f;
  let y = atr[1]! >> 4;
  let i = 2;
  for (;;) {
    i += (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1); // TAi, TBi, TCi
    if (!(y & 0x8) || i >= atr.length) break;
    y = atr[i]! >> 4; // TDi
    i++;
  }
  return atr.subarray(i, Math.min(atr.length, i + k));
}

function endsWith(hay: Uint8Array, needle: Uint8Array): boolean {
  return hay.length >= needle.length && needle.every((b, j) => hay[hay.length - needle.length + j] === b);
}

export const myeidDriverFactory: DriverFactory = {
  name: 'myeid',
  matchAtr: (atr) => NAMES.some((n) => endsWith(historicalBytes(atr), n)),
  async probe(ch) {
    // The applet answers its AID and then exactly 20 bytes of applet info (card-myeid.c `myeid_init`).
    const sel = await ch.transmit(cmd.selectApplet());
    if (sel.sw !== 0x9000) return false;
    const info = await ch.transmit(cmd.getAppletInfo());
    return info.sw === 0x9000 && info.data.length === 20;
  },
  create: (ch) => new MyeidDriver(ch),
};

const MF = Uint8Array.of(0x3f, 0x00);
/** ACLs pkcs15-init's myeid.profile gives new files ($PIN = the user PIN reference). */
const keyAcl = (pin: number) => Uint8Array.of((pin << 4) | pin, (pin << 4) | pin, 0xff); // CRYPTO, UPDATE, DELETE, GENERATE
const readableEfAcl = (pin: number) => Uint8Array.of(pin, (pin << 4) | 0x0f, 0xff); // READ none, UPDATE/DELETE $PIN
const privateEfAcl = (pin: number) => Uint8Array.of((pin << 4) | pin, (pin << 4) | 0x0f, 0xff); // myeid.profile `privdata`: READ, UPDATE, DELETE $PIN
/** The applicationName of the data objects cardca writes (`pkcs15-init --store-data --application-name cardca`). */
const DATA_OBJECT_APPLICATION = 'cardca';
const SHORT_CHUNK = 255;

/**
 * Aventra MyEID driver (card-protocols.md §3.2): a real PKCS#15 file system read through the
 * generic reader (src/card/pkcs15/pkcs15-reader.ts), ISO 7816-8 signing (MSE SET + PSO CDS),
 * key generation and PKCS#15 entries laid out as OpenSC's pkcs15-init writes them. Short APDUs
 * only; command chaining for 256-byte inputs from v4.5, the 81/82 half-block decipher before.
 */
export class MyeidDriver implements CardDriver {
  readonly name = 'myeid';
  /** The user PIN's record also holds its PUK (PUT DATA 01 <ref>; pkcs15-myeid.c `myeid_create_pin`). */
  readonly unblockCredential = 'puk' as const;
  /** `ca card init` lays the card out as pkcs15-init --profile pkcs15+onepin (myeid-personalise.ts). */
  readonly pkcs15Personalisation = MYEID_PKCS15_PERSONALISATION;
  /**
   * No DKEK (keys never leave a MyEID), no administration key, no slots: the key files are
   * allocated like pkcs15-init does. User PINs 4–8 characters (myeid.profile `user-pin`;
   * card-myeid.c `myeid_pin_cmd` refuses longer ones).
   */
  readonly capabilities: DriverCapabilities = {
    unblockCredential: 'puk',
    adminKey: false,
    keySlots: false,
    attestation: false,
    caCertificates: false,
    dkekBackup: false,
    userPinLength: { min: 4, max: 8 },
  };
  readonly maxCommandData = SHORT_CHUNK;
  private readonly ch: ApduChannel;
  private info: { version: [number, number, number]; serial: string } | undefined;
  private app: Pkcs15Application | undefined;
  private limits: { maxRsaBits: number; maxEccBits: number } | undefined;

  constructor(ch: ApduChannel) {
    this.ch = ch;
  }

  private get chaining(): boolean {
    const v = this.info?.version ?? [0, 0, 0];
    return v[0] * 10 + v[1] >= 45;
  }

  async selectApplication(): Promise<void> {
    await this.ch.expectOk(cmd.selectApplet(), 'SELECT MyEID applet');
    const b = await this.ch.expectOk(cmd.getAppletInfo(), 'GET DATA applet info (01 A0)');
    if (b.length !== 20) throw new CardError('CARD_UNSUPPORTED', `MyEID applet info is ${b.length} bytes, not 20`);
    this.info = { version: [b[5]!, b[6]!, b[7]!], serial: toHex(b.subarray(8, 18)) };
  }

  /**
   * The key sizes the applet generates, as OpenSC's `myeid_init` works them out: RSA up to 2048
   * and EC up to 256 bits always (from 3.5); from applet 4.0 GET DATA 01 AA may say more (RSA
   * 3072/4096 when the RSA feature bit is set, EC up to its max ECC length). Asked once per session.
   */
  private async keyLimits(): Promise<{ maxRsaBits: number; maxEccBits: number }> {
    if (this.limits) return this.limits;
    const { version } = await this.appletInfo();
    let maxRsaBits = 2048;
    let maxEccBits = 256;
    if (version[0] * 10 + version[1] >= 40) {
      const r = await this.ch.transmit(cmd.getCapabilities());
      const caps = r.sw === 0x9000 ? cmd.parseCapabilities(r.data) : undefined;
      if (caps) {
        if (caps.rsa && caps.maxRsaBits > maxRsaBits) maxRsaBits = caps.maxRsaBits;
        maxEccBits = caps.ecc ? caps.maxEccBits : 0;
      }
    }
    this.limits = { maxRsaBits, maxEccBits };
    return this.limits;
  }

  private async appletInfo(): Promise<{ version: [number, number, number]; serial: string }> {
    if (!this.info) await this.selectApplication();
    return this.info!;
  }

  // ---- file access ----

  /** SELECT by path from the MF; the FCP's size (tag 80/81), or undefined when the file does not exist. */
  private async selectFile(path: Uint8Array): Promise<{ size: number; descriptor: number; acl: Uint8Array | undefined } | undefined> {
    const r = await this.ch.transmit(selectPath(path, 'fci'));
    if (r.sw === 0x6a82) return undefined;
    if (r.sw !== 0x9000) throw statusWordError(r.sw, `SELECT ${pathHex(path)}`);
    let size = 0;
    let descriptor = 0;
    let acl: Uint8Array | undefined;
    try {
      const fcp = readTlv(r.data, 0).value;
      const s = findTlv(fcp, 0x80) ?? findTlv(fcp, 0x81);
      if (s) size = s.reduce((n, x) => n * 256 + x, 0);
      descriptor = findTlv(fcp, 0x82)?.[0] ?? 0;
      acl = findTlv(fcp, 0x86);
    } catch {
      /* no FCP: size unknown */
    }
    return { size, descriptor, acl };
  }

  private source(): Pkcs15FileSource {
    return {
      readEf: async (path) => {
        const f = await this.selectFile(path);
        if (!f || f.descriptor !== 0x01) return undefined;
        return readWholeBinary(this.ch, f.size || undefined);
      },
    };
  }

  private async application(): Promise<Pkcs15Application | undefined> {
    if (this.app) return this.app;
    await this.appletInfo();
    try {
      this.app = await readPkcs15Application(this.source());
    } catch (err) {
      if (err instanceof Pkcs15Error && err.code === 'CARD_PKCS15_NO_APPLICATION') return undefined;
      throw err;
    }
    return this.app;
  }

  private async requireApplication(): Promise<Pkcs15Application> {
    const app = await this.application();
    if (!app) {
      throw new CardError('CARD_NOT_INITIALIZED', 'the MyEID has no PKCS#15 application', {
        hint: 'Initialise it with `ca card init`, or with OpenSC: pkcs15-init --create-pkcs15 --profile pkcs15+onepin, then --store-pin --auth-id 01 (docs/card-setup.md).',
      });
    }
    return app;
  }

  private async writeEf(path: Uint8Array, data: Uint8Array, offset = 0): Promise<void> {
    if (!(await this.selectFile(path))) throw new CardError('CARD_FILE_MISSING', `EF ${pathHex(path)} is missing`);
    for (let off = 0; off < data.length; off += SHORT_CHUNK) {
      const chunk = data.subarray(off, Math.min(off + SHORT_CHUNK, data.length));
      const at = offset + off;
      await this.ch.expectOk({ cla: 0x00, ins: 0xd6, p1: at >> 8, p2: at & 0xff, data: chunk }, `UPDATE BINARY ${pathHex(path)} at ${at}`);
    }
  }

  // ---- identity and PINs ----

  async deviceInfo(): Promise<DeviceInfo> {
    const { version, serial } = await this.appletInfo();
    const app = await this.application();
    const hist = historicalBytes(this.ch.transport.atr());
    const pinLabel = app ? this.userPin(app)?.label : undefined;
    const emulated = endsWith(hist, concatBytes(EMULATOR_PREFIX, NAMES[0]!))
        ? 'its ATR historical bytes read "cardcaEMUMyEID": the cardca emulator\'s, not an Aventra card\'s "MyEID"'
        : undefined;
    return {
      serial,
      label: app?.tokenInfo?.label,
      initialized: app !== undefined && this.userPin(app) !== undefined,
      version: `${version[0]}.${version[1]}`,
      ...(app?.tokenInfo?.manufacturer !== undefined ? { manufacturer: app.tokenInfo.manufacturer } : {}),
      ...(emulated ? { emulated } : {}),
      // OpenSC's PKCS#11 token serial is the TokenInfo serialNumber in lower-case hex (pkcs15.c
      // `sc_pkcs15_parse_tokeninfo`), which pkcs15-init copies from the applet serial.
      ...(app?.tokenInfo && app.tokenInfo.serial.length > 0 ? { tokenSerial: Buffer.from(app.tokenInfo.serial).toString('hex') } : {}),
      ...(pinLabel !== undefined ? { pinLabel } : {}),
    };
  }

  /** The user PIN: authId 01 (pkcs15-init's `--auth-id 01`), else the first PIN that is neither SO nor unblocking. */
  private userPin(app: Pkcs15Application): Pkcs15Pin | undefined {
    const plain = app.pins.filter((p) => !p.so && !p.unblocking);
    return plain.find((p) => p.authId.length === 1 && p.authId[0] === 0x01) ?? plain[0];
  }

  private async pinStatusOf(pin: Pkcs15Pin | undefined): Promise<PinStatus> {
    if (!pin) return { state: 'not-initialized', triesLeft: undefined };
    const r = await this.ch.transmit(verifyStatus(pin.reference));
    const tries = triesLeftOf(r.sw);
    if (r.sw === 0x9000) return { state: 'verified', triesLeft: undefined };
    if (tries !== undefined) return { state: tries === 0 ? 'blocked' : 'not-verified', triesLeft: tries };
    if (r.sw === 0x6983) return { state: 'blocked', triesLeft: 0 };
    if (r.sw === 0x6a88) return { state: 'not-initialized', triesLeft: undefined };
    throw statusWordError(r.sw, 'PIN status query');
  }

  async pinStatus(): Promise<PinStatus> {
    const app = await this.application();
    return this.pinStatusOf(app ? this.userPin(app) : undefined);
  }

  /**
   * The unblock credential is the user PIN's PUK, which the MyEID keeps in the PIN's own record
   * (PUT DATA 01 <ref>: PIN ‖ PUK ‖ tries; pkcs15-myeid.c `myeid_create_pin`). It has no
   * reference of its own to query without spending a try (OpenSC has no PUK query for the
   * MyEID either, card-myeid.c `myeid_pin_cmd`), so its tries left are not known.
   */
  async soPinStatus(): Promise<PinStatus> {
    const app = await this.application();
    if (!app || !this.userPin(app)) return { state: 'not-initialized', triesLeft: undefined };
    return { state: 'not-verified', triesLeft: undefined };
  }

  private padded(pin: Pkcs15Pin, value: Uint8Array): Uint8Array {
    const max = pin.maxLength ?? 8;
    if (value.length < pin.minLength || value.length > max) {
      throw new PinError('PIN_LENGTH', `the PIN must be ${pin.minLength}–${max} characters (AODF "${pin.label ?? ''}")`, {
        hint: 'Enter the PIN set with pkcs15-init --store-pin.',
      });
    }
    return cmd.padPin(value, pin.padChar ?? 0xff, Math.max(pin.storedLength, 8));
  }

  private async requireUserPin(): Promise<Pkcs15Pin> {
    const pin = this.userPin(await this.requireApplication());
    if (!pin) {
      throw new PinError('PIN_NOT_INITIALIZED', 'the MyEID has no user PIN in its AODF', {
        hint: 'Create it with `pkcs15-init --store-pin --auth-id 01` (docs/card-setup.md).',
      });
    }
    return pin;
  }

  async verifyPin(pin: Uint8Array): Promise<void> {
    const p = await this.requireUserPin();
    const data = this.padded(p, pin);
    try {
      await this.ch.expectOk(verify(p.reference, data), 'VERIFY user PIN');
    } finally {
      data.fill(0);
    }
  }

  async changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    const p = await this.requireUserPin();
    const data = concatBytes(this.padded(p, oldPin), this.padded(p, newPin));
    try {
      await this.ch.expectOk(changeReferenceData(p.reference, data), 'CHANGE REFERENCE DATA (user PIN)');
    } finally {
      data.fill(0);
    }
  }

  async unblockPin(puk: Uint8Array, newPin: Uint8Array | undefined): Promise<void> {
    const p = await this.requireUserPin();
    // The PUK has the user PIN's format (myeid.profile `user-puk`: 4–8, FF-padded to 8).
    if (puk.length < 4 || puk.length > 8) {
      throw new PinError('PIN_LENGTH', 'the PUK of a MyEID is 4–8 characters', { hint: 'Enter the PUK set with pkcs15-init --store-pin --puk (not a SmartCard-HSM SO-PIN).' });
    }
    const data = newPin ? concatBytes(cmd.padPin(puk), this.padded(p, newPin)) : cmd.padPin(puk);
    try {
      await this.ch.expectOk(resetRetryCounter(newPin ? 0x00 : 0x01, p.reference, data), 'RESET RETRY COUNTER (user PIN)');
    } finally {
      data.fill(0);
    }
  }

  async logout(): Promise<void> {
    await this.ch.expectOk(cmd.logout(), 'LOGOUT');
  }

  /**
   * `ca card init`: erase and personalise as pkcs15-init --profile pkcs15+onepin would, then
   * --finalize (myeid-personalise-card.ts). `o.soPin` is the new PUK, `o.userPin` the new PIN.
   */
  async initialize(o: InitOptions): Promise<void> {
    const { serial } = await this.appletInfo();
    this.app = undefined;
    try {
      await personaliseMyeid(this.ch, fromHex(serial), {
        pin: o.userPin,
        puk: o.soPin,
        retries: o.retries,
        label: o.label,
        now: o.now ?? new Date(),
        eraseExisting: o.eraseExisting === true,
        ...(o.currentSoPin ? { currentSoPin: o.currentSoPin } : {}),
      });
    } finally {
      this.app = undefined;
    }
  }

  // ---- keys ----

  private async publicKeyOf(app: Pkcs15Application, k: Pkcs15PrivateKey): Promise<Uint8Array | undefined> {
    const pub = app.publicKeys.find((p) => toHex(p.id) === toHex(k.id) && p.kind === k.kind);
    if (pub) {
      try {
        const raw = 'direct' in pub.value ? pub.value.direct : trimDer(await readReference(this.source(), pub.value.file, pub.where, `(label "${pub.label ?? ''}")`));
        // OpenSC writes RSA public keys as PKCS#1 RSAPublicKey, EC ones as SPKI.
        const type = k.kind === 'rsa' && raw[0] === 0x30 && raw[4] === 0x02 ? 'pkcs1' : 'spki';
        return new Uint8Array(createPublicKey({ key: Buffer.from(raw), format: 'der', type }).export({ type: 'spki', format: 'der' }));
      } catch {
        /* fall back to the key EF */
      }
    }
    if (!k.path) return undefined;
    // The key EF answers GET DATA with its public part (pkcs15-myeid.c `myeid_generate_key`).
    if (!(await this.selectFile(k.path))) return undefined;
    const r = await this.ch.transmit(cmd.getPublicKey(k.kind));
    if (r.sw !== 0x9000 || r.data.length === 0) return undefined;
    if (k.kind === 'rsa') {
      const jwk = { kty: 'RSA', n: Buffer.from(r.data).toString('base64url'), e: 'AQAB' };
      return new Uint8Array(createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }));
    }
    const point = readAllTlv(r.data)[0]?.value;
    const curve = k.size === 384 ? curveOfKeyAlgorithm('p384') : k.size === 521 ? curveOfKeyAlgorithm('p521') : curveOfKeyAlgorithm('p256');
    return point && curve ? ecSpki(curve, point) : undefined;
  }

  private async certificateOf(app: Pkcs15Application, id: Uint8Array): Promise<Uint8Array | undefined> {
    const c = app.certificates.find((x) => toHex(x.id) === toHex(id));
    if (!c) return undefined;
    try {
      return 'direct' in c.value ? c.value.direct : trimDer(await readReference(this.source(), c.value.file, c.where, `(label "${c.label ?? ''}")`));
    } catch {
      return undefined;
    }
  }

  private keyRefOf(k: Pkcs15PrivateKey): number {
    return k.keyReference ?? (k.path ? k.path[k.path.length - 1]! : 0);
  }

  async listKeyEntries(): Promise<CardKeyEntry[]> {
    const app = await this.application();
    if (!app) return [];
    const out: CardKeyEntry[] = [];
    for (const k of app.privateKeys) {
      const problems = app.problems.filter((p) => p.object?.includes(toHex(k.id).toLowerCase())).map((p) => p.message);
      if (!(k.usage & (KeyUsageFlags.sign | KeyUsageFlags.nonRepudiation))) problems.push(`PKCS#15 ${k.where}: usage does not allow signing`);
      // The key EF's CRYPTO right is the high nibble of the first ACL byte; F = never (card-myeid.c `parse_sec_attr`).
      const ef = k.path ? await this.selectFile(k.path) : undefined;
      if (k.path && !ef) problems.push(new Pkcs15Error('CARD_PKCS15_DANGLING_PATH', k.where, `(label "${k.label ?? ''}")`, `key file ${pathHex(k.path)} does not exist`).message);
      if (ef?.acl && ef.acl.length === 3 && ef.acl[0]! >> 4 === 0x0f) {
        problems.push(new Pkcs15Error('CARD_PKCS15_SIGNING_FORBIDDEN', k.where, `(label "${k.label ?? ''}")`, `the access rules of key file ${pathHex(k.path!)} never allow its use`).message);
      }
      const publicKey = await this.publicKeyOf(app, k);
      let type = 'unknown';
      let bits: number | undefined = k.size;
      let algorithm: KeyAlgorithm | undefined;
      if (publicKey) {
        try {
          const t = publicKeyTypeOfSpki(publicKey);
          ({ type, bits, algorithm } = t);
        } catch (err) {
          problems.push((err as Error).message);
        }
      } else problems.push('public key not readable (no PuKDF entry and the key EF gives none)');
      out.push({
        id: toHex(k.id),
        keyRef: this.keyRefOf(k),
        label: k.label ?? '',
        type,
        bits,
        algorithm,
        state: publicKey ? 'complete' : 'incomplete',
        usable: publicKey !== undefined && algorithm !== undefined && problems.length === 0,
        problems,
        publicKey,
        certificate: await this.certificateOf(app, k.id),
      });
    }
    return out;
  }

  async listKeys(): Promise<CardKeyInfo[]> {
    return (await this.listKeyEntries()).flatMap((k) =>
      k.usable && k.algorithm && k.publicKey ? [{ id: k.id, keyRef: k.keyRef, label: k.label, algorithm: k.algorithm, publicKey: k.publicKey, certificate: k.certificate }] : [],
    );
  }

  private async keyByRef(keyRef: number): Promise<{ app: Pkcs15Application; key: Pkcs15PrivateKey }> {
    const app = await this.requireApplication();
    const key = app.privateKeys.find((k) => this.keyRefOf(k) === keyRef);
    if (!key || !key.path) throw new CardError('CARD_KEY_NOT_FOUND', `no PKCS#15 private key with key reference ${keyRef} on the MyEID`, { hint: 'List the keys with `ca card list`.' });
    return { app, key };
  }

  /**
   * ISO 7816-8 signing (card-protocols.md §3.2 "Sign"): SELECT the key's DF, MSE SET with the
   * algorithm and the key EF's FID, PSO COMPUTE DIGITAL SIGNATURE. RSA goes raw with a host-built
   * block (PKCS#1 v1.5 or EMSA-PSS), chained from v4.5, as two DECIPHER halves before (card-myeid.c
   * `myeid_compute_raw_2048_signature`); ECDSA gets the hash zero-padded to the field length.
   */
  async sign(keyRef: number, mode: RawSignMode, input: Uint8Array): Promise<Uint8Array> {
    const { key } = await this.keyByRef(keyRef);
    const path = key.path!;
    const df = path.subarray(0, path.length - 2);
    const fid = path.subarray(path.length - 2);
    await this.ch.expectOk(selectPath(df.length === 0 ? MF : df), `SELECT key DF ${pathHex(df)}`);
    const what = `PSO COMPUTE DIGITAL SIGNATURE with key ${pathHex(path)}`;
    if (mode.kind === 'ecdsa') {
      if (key.kind !== 'ec') throw new CardError('CARD_KEY_TYPE', `key ${pathHex(path)} is not an EC key`);
      const field = Math.ceil((key.size ?? 256) / 8);
      const h = input.length < field ? concatBytes(new Uint8Array(field - input.length), input) : input;
      await this.ch.expectOk(mseSet({ template: 'sign', algorithm: cmd.MYEID_ALG.ecdsa, fileReference: fid, keyReference: 0 }), 'MSE SET (ECDSA)');
      return this.ch.expectOk(psoComputeDigitalSignature(h), what);
    }
    if (key.kind !== 'rsa') throw new CardError('CARD_KEY_TYPE', `key ${pathHex(path)} is not an RSA key`);
    const k = Math.ceil((key.size ?? 2048) / 8);
    const block = mode.kind === 'rsa-raw' ? input : emsaPssEncode(hashOfLength(mode.hashLength), input, key.size ?? 2048);
    if (block.length !== k) throw new CardError('CARD_SIGN_INPUT', `raw RSA input is ${block.length} bytes, the modulus ${k}`);
    if (k <= SHORT_CHUNK || this.chaining) {
      await this.ch.expectOk(mseSet({ template: 'sign', algorithm: cmd.MYEID_ALG.rsaRaw, fileReference: fid, keyReference: 0 }), 'MSE SET (raw RSA)');
      return this.ch.expectOk(psoComputeDigitalSignature(block), what);
    }
    await this.ch.expectOk(mseSet({ template: 'decipher', algorithm: cmd.MYEID_ALG.rsaRaw, fileReference: fid, keyReference: 0 }), 'MSE SET (raw RSA by DECIPHER)');
    const [first, second] = psoDecipherHalves(block);
    await this.ch.expectOk(first, `${what} (first half)`);
    return this.ch.expectOk(second, `${what} (second half)`);
  }

  // ---- writing: key generation, certificates, deletion ----

  private async freeFid(appPath: Uint8Array, base: number): Promise<number> {
    for (let fid = base; fid < base + 0xff; fid++) {
      if (!(await this.selectFile(concatBytes(appPath, Uint8Array.of(fid >> 8, fid & 0xff))))) return fid;
    }
    throw new CardError('CARD_FULL', `no free file identifier after ${base.toString(16).toUpperCase()} on the MyEID`);
  }

  private async createEf(appPath: Uint8Array, fid: number, descriptor: number, size: number, acl: Uint8Array): Promise<Uint8Array> {
    await this.ch.expectOk(selectPath(appPath), `SELECT ${pathHex(appPath)}`);
    await this.ch.expectOk(cmd.createFile({ fid, descriptor, size, acl }), `CREATE FILE ${fid.toString(16).toUpperCase()}`);
    return concatBytes(appPath, Uint8Array.of(fid >> 8, fid & 0xff));
  }

  private async deleteEf(path: Uint8Array): Promise<void> {
    if (!(await this.selectFile(path))) return;
    await this.ch.expectOk(cmd.deleteSelectedFile(), `DELETE FILE ${pathHex(path)}`);
  }

  /** Append one entry inside a directory EF's fixed size (card-protocols.md §2.8 "What it writes"). */
  private async appendEntry(app: Pkcs15Application, kind: 'prkdf' | 'pukdf' | 'cdf' | 'dodf', entry: Uint8Array): Promise<void> {
    const d = app.directories.find((x) => x.kind === kind);
    if (!d) throw new Pkcs15Error('CARD_PKCS15_MALFORMED', `ODF ${pathHex(app.path)}5031`, undefined, `no ${kind.toUpperCase()} to record the new object in`);
    const name = `${kind.toUpperCase()} ${pathHex(d.file.path)}`;
    const content = await readReference(this.source(), d.file, name, undefined);
    const used = splitDirectoryFile(content, name).reduce((n, e) => Math.max(n, e.offset + e.der.length), 0);
    if (used + entry.length > content.length) throw new CardError('CARD_FULL', `${name} has no room for another entry (${content.length - used} bytes free)`);
    await this.writeEf(d.file.path, entry, (d.file.index ?? 0) + used);
  }

  /** Replace the entry at `offset` (same directory) by `entry`, shifting what follows. */
  private async rewriteDirectory(path: Uint8Array, name: string, mutate: (entries: Uint8Array[]) => Uint8Array[]): Promise<void> {
    const content = await readReference(this.source(), { path, index: undefined, length: undefined }, name, undefined);
    const entries = splitDirectoryFile(content, name).map((e) => e.der.slice());
    const next = concatBytes(...mutate(entries));
    if (next.length > content.length) throw new CardError('CARD_FULL', `${name} has no room for the new entry`);
    const out = new Uint8Array(content.length);
    out.set(next);
    await this.writeEf(path, out);
  }

  async generateKey(o: { label: string; algorithm: KeyAlgorithm }): Promise<CardKeyInfo> {
    const app = await this.requireApplication();
    const pin = await this.requireUserPin();
    const curve = curveOfKeyAlgorithm(o.algorithm);
    const kind: 'rsa' | 'ec' = curve ? 'ec' : 'rsa';
    const size = curve ? curve.orderBits : o.algorithm === 'rsa2048' ? 2048 : 0;
    if (size !== 2048 && size !== 256 && size !== 384) {
      throw new CardError('CARD_ALGORITHM_UNSUPPORTED', `the MyEID emulated and supported here generates rsa2048, p256 and p384, not ${o.algorithm}`, { hint: 'Use --alg rsa2048, p256 or p384.' });
    }
    // Before any file is created: a key EF the applet cannot fill would be left behind.
    const limits = await this.keyLimits();
    const max = kind === 'rsa' ? limits.maxRsaBits : limits.maxEccBits;
    if (size > max) {
      throw new CardError('CARD_ALGORITHM_UNSUPPORTED', `this MyEID generates ${kind === 'rsa' ? 'RSA' : 'EC'} keys of up to ${max} bits (its applet capabilities, GET DATA 01 AA), not ${o.algorithm}`, {
        hint: kind === 'ec' && max >= 256 ? 'Use --alg p256.' : 'Use another algorithm, or a card whose applet supports it.',
      });
    }
    // File identifiers as pkcs15-myeid.c `myeid_new_file` picks them: first free 4Bxx / 55xx.
    const keyFid = await this.freeFid(app.path, 0x4b01);
    const keyPath = await this.createEf(app.path, keyFid, kind === 'rsa' ? 0x11 : 0x22, size, keyAcl(pin.reference));
    try {
      await this.ch.expectOk(cmd.generateKey(kind), `GENERATE KEY ${o.algorithm} in ${pathHex(keyPath)}`);
      const r = await this.ch.expectOk(cmd.getPublicKey(kind), 'GET DATA public key');
      let spki: Uint8Array;
      let pubFile: Uint8Array;
      let id: Uint8Array;
      if (kind === 'rsa') {
        const key = createPublicKey({ key: { kty: 'RSA', n: Buffer.from(r).toString('base64url'), e: 'AQAB' }, format: 'jwk' });
        spki = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
        pubFile = new Uint8Array(key.export({ type: 'pkcs1', format: 'der' }));
        id = new Uint8Array(createHash('sha1').update(r).digest()); // OpenSC native iD: SHA-1 of the modulus
      } else {
        const point = readAllTlv(r)[0]?.value;
        if (!point) throw new CardError('CARD_KEYGEN_FAILED', 'the MyEID returned no EC public point');
        spki = ecSpki(curve!, point);
        pubFile = spki;
        id = new Uint8Array(createHash('sha1').update(point).digest()); // SHA-1 of the uncompressed point
      }
      const pubFid = await this.freeFid(app.path, 0x5501);
      const pubPath = await this.createEf(app.path, pubFid, 0x01, pubFile.length, readableEfAcl(pin.reference));
      await this.writeEf(pubPath, pubFile);
      await this.appendEntry(app, 'prkdf', encodeMyeidPrivateKeyEntry({ kind, label: o.label, id, path: keyPath, size, authId: pin.authId, keyReference: keyFid & 0xff }));
      await this.appendEntry(app, 'pukdf', encodeMyeidPublicKeyEntry({ kind, label: o.label, id, path: pubPath, size }));
      this.app = undefined;
      return { id: toHex(id), keyRef: keyFid & 0xff, label: o.label, algorithm: o.algorithm, publicKey: spki, certificate: undefined };
    } catch (err) {
      this.app = undefined;
      throw err;
    }
  }

  async writeCertificate(keyRef: number, certificate: Uint8Array): Promise<void> {
    const { app, key } = await this.keyByRef(keyRef);
    const spki = await this.publicKeyOf(app, key);
    const { X509Certificate } = await import('node:crypto');
    const certKey = new X509Certificate(Buffer.from(certificate)).publicKey.export({ type: 'spki', format: 'der' });
    if (!spki || Buffer.compare(Buffer.from(spki), certKey) !== 0) {
      throw new CardError('CARD_CERT_KEY_MISMATCH', `the certificate's public key is not that of key ${toHex(key.id)}`, { hint: 'Write the certificate issued for this key.' });
    }
    const pin = await this.requireUserPin();
    const existing = app.certificates.find((c) => toHex(c.id) === toHex(key.id));
    // New EF first, then the CDF, then the old EF: an interruption leaves the old certificate readable.
    const fid = await this.freeFid(app.path, 0x4301);
    const path = await this.createEf(app.path, fid, 0x01, certificate.length, readableEfAcl(pin.reference));
    await this.writeEf(path, certificate);
    const entry = encodeMyeidCertificateEntry({ label: key.label ?? 'Certificate', id: key.id, path });
    const cdf = app.directories.find((d) => d.kind === 'cdf');
    if (existing && cdf && existing.where.startsWith(`CDF ${pathHex(cdf.file.path)}`)) {
      const index = Number(/entry (\d+)$/.exec(existing.where)![1]);
      await this.rewriteDirectory(cdf.file.path, `CDF ${pathHex(cdf.file.path)}`, (es) => es.map((e, i) => (i === index ? entry : e)));
      if ('file' in existing.value) await this.deleteEf(existing.value.file.path);
    } else await this.appendEntry(app, 'cdf', entry);
    this.app = undefined;
  }

  async deleteKey(keyRef: number): Promise<void> {
    const { app, key } = await this.keyByRef(keyRef);
    const id = toHex(key.id);
    for (const [kind, list] of [['prkdf', app.privateKeys], ['pukdf', app.publicKeys], ['cdf', app.certificates]] as const) {
      const d = app.directories.find((x) => x.kind === kind);
      if (!d) continue;
      const name = `${kind.toUpperCase()} ${pathHex(d.file.path)}`;
      const drop = new Set(list.filter((o) => toHex(o.id) === id && o.where.startsWith(name)).map((o) => Number(/entry (\d+)$/.exec(o.where)![1])));
      if (drop.size > 0) await this.rewriteDirectory(d.file.path, name, (es) => es.filter((_, i) => !drop.has(i)));
    }
    for (const p of app.publicKeys.filter((x) => toHex(x.id) === id)) if ('file' in p.value) await this.deleteEf(p.value.file.path);
    for (const c of app.certificates.filter((x) => toHex(x.id) === id)) if ('file' in c.value) await this.deleteEf(c.value.file.path);
    await this.deleteEf(key.path!);
    this.app = undefined;
  }
  // ---- PKCS#15 data objects (the DODF) ----

  private dataObject(app: Pkcs15Application, label: string) {
    return app.dataObjects.find((d) => d.label === label && d.applicationName === DATA_OBJECT_APPLICATION);
  }

  /**
   * The private data object `label` cardca wrote, `undefined` when there is none. Its EF is
   * readable with the user PIN only (myeid.profile `privdata`), so verify first. `_id` is the
   * SmartCard-HSM's numbering; a PKCS#15 card names data objects.
   */
  async readDataObject(_id: number, label: string): Promise<Uint8Array | undefined> {
    const app = await this.requireApplication();
    const o = this.dataObject(app, label);
    if (!o) return undefined;
    return 'direct' in o.value ? o.value.direct : readReference(this.source(), o.value.file, o.where, `(label "${label}")`);
  }

  /**
   * Store `data` as a private data object the way `pkcs15-init --store-data FILE --auth-id 01
   * --label LABEL --application-name cardca` does (pkcs15-lib.c `sc_pkcs15init_store_data_object`):
   * an EF 45xx of exactly its size, readable and writable with the user PIN, and a DODF entry.
   * A rewrite makes the new EF and points the entry at it before it deletes the old EF, so an
   * interruption leaves the previous value readable (as certificate write-back does).
   */
  async writeDataObject(_id: number, data: Uint8Array, label: string): Promise<void> {
    if (data.length === 0) throw new RangeError('a MyEID data object is not empty');
    const app = await this.requireApplication();
    const pin = await this.requireUserPin();
    const dodf = app.directories.find((d) => d.kind === 'dodf');
    if (!dodf) {
      throw new CardError('CARD_NO_DATA_OBJECTS', `the MyEID's ODF names no DODF to record data object "${label}" in`, {
        hint: 'Cards personalised with OpenSC pkcs15-init (myeid.profile) have DODF 4406; re-personalise the card, or keep the file copy.',
      });
    }
    const existing = this.dataObject(app, label);
    const fid = await this.freeFid(app.path, 0x4501);
    const path = await this.createEf(app.path, fid, 0x01, data.length, privateEfAcl(pin.reference));
    try {
      await this.writeEf(path, data);
      const entry = encodeMyeidDataObjectEntry({ label, applicationName: DATA_OBJECT_APPLICATION, authId: pin.authId, path });
      const name = `DODF ${pathHex(dodf.file.path)}`;
      if (existing && existing.where.startsWith(name)) {
        const index = Number(/entry (\d+)$/.exec(existing.where)![1]);
        await this.rewriteDirectory(dodf.file.path, name, (es) => es.map((e, i) => (i === index ? entry : e)));
        if ('file' in existing.value) await this.deleteEf(existing.value.file.path);
      } else await this.appendEntry(app, 'dodf', entry);
    } finally {
      this.app = undefined;
    }
  }
}
