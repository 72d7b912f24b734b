import type { KeyAlgorithm, Signer } from '../crypto/signer.js';
import { ApduChannel, type ApduTracer } from './apdu/apdu-channel.js';
import type { CardInfo, CardKeyEntry, CardKeyInfo, CardSession, PinStatus } from './card-service.js';
import { CardSigner } from './card-signer.js';
import type { CardDriver, DriverCapabilities, InitOptions, KeyAttestation, KeyPlacement } from './drivers/card-driver.js';
import { driverCapabilities } from './drivers/driver-capabilities.js';
import { selectDriver } from './drivers/registry.js';
import { CardError } from './errors.js';
import type { CardTransport } from './transport/card-transport.js';
import { toHex } from '../common/hex.js';

export interface SessionOptions {
  readonly tracer?: ApduTracer;
  readonly timeoutMs?: number;
}

/**
 * A `CardSession` over any `CardTransport` (PC/SC or in-process): picks the driver, reads the
 * device info once, then runs every operation inside `transport.exclusive` so multi-APDU
 * operations never interleave. Beyond the `CardSession` contract it offers the administrative
 * operations the `ca card` commands need (init, PIN change/unblock, key deletion).
 */
export class DriverCardSession implements CardSession {
  readonly info: CardInfo;
  readonly driver: CardDriver;
  readonly channel: ApduChannel;
  private readonly transport: CardTransport;
  private keyCache: CardKeyInfo[] | undefined;
  /**
   * Where `generateKey` puts a new key when the caller (a ceremony in src/ca, which knows no
   * card family) does not say: set by the CLI from `--slot` and the policy options.
   */
  keyPlacement: KeyPlacement = {};

  private constructor(transport: CardTransport, channel: ApduChannel, driver: CardDriver, info: CardInfo) {
    this.transport = transport;
    this.channel = channel;
    this.driver = driver;
    this.info = info;
  }

  static async open(transport: CardTransport, options: SessionOptions = {}): Promise<DriverCardSession> {
    const channel = new ApduChannel(transport, {
      ...(options.tracer ? { tracer: options.tracer } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    return transport.exclusive(async () => {
      const driver = await selectDriver(channel);
      channel.driverMaxCommandData = driver.maxCommandData;
      await driver.selectApplication();
      const d = await driver.deviceInfo();
      const info: CardInfo = {
        reader: transport.readerName,
        serial: d.serial,
        label: d.label,
        initialized: d.initialized,
        driver: driver.name,
        atr: toHex(transport.atr()),
        version: d.version,
        ...(d.manufacturer === undefined ? {} : { manufacturer: d.manufacturer }),
        ...(d.emulated ? { emulated: d.emulated } : {}),
        ...(d.tokenSerial === undefined ? {} : { tokenSerial: d.tokenSerial }),
        ...(d.pinLabel === undefined ? {} : { pinLabel: d.pinLabel }),
      };
      return new DriverCardSession(transport, channel, driver, info);
    });
  }

  private run<T>(fn: () => Promise<T>): Promise<T> {
    return this.transport.exclusive(fn);
  }

  pinStatus(): Promise<PinStatus> {
    return this.run(() => this.driver.pinStatus());
  }

  soPinStatus(): Promise<PinStatus> {
    return this.run(() => this.driver.soPinStatus());
  }

  verifyPin(pin: Uint8Array): Promise<void> {
    return this.run(() => this.driver.verifyPin(pin));
  }

  changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void> {
    return this.run(() => this.driver.changePin(oldPin, newPin));
  }

  unblockPin(soPin: Uint8Array, newPin: Uint8Array | undefined): Promise<void> {
    return this.run(() => this.driver.unblockPin(soPin, newPin));
  }

  initialize(o: InitOptions): Promise<void> {
    this.keyCache = undefined;
    return this.run(() => this.driver.initialize(o));
  }

  async listKeys(): Promise<CardKeyInfo[]> {
    const keys = await this.run(() => this.driver.listKeys());
    this.keyCache = keys;
    return keys;
  }

  /** Every key slot, foreign and incomplete keys included (`ca card list`). */
  async inventory(): Promise<CardKeyEntry[]> {
    if (this.driver.listKeyEntries) return this.run(() => this.driver.listKeyEntries!());
    return (await this.listKeys()).map((k) => ({
      ...k,
      type: k.algorithm,
      bits: undefined,
      state: 'complete' as const,
      usable: true,
      problems: [],
    }));
  }

  async generateKey(o: { label: string; algorithm: KeyAlgorithm } & KeyPlacement): Promise<CardKeyInfo> {
    const k = await this.run(() => this.driver.generateKey({ ...this.keyPlacement, ...o }));
    this.keyCache = undefined;
    return k;
  }

  /** Key reference of an operator's slot name, or undefined when the family has no slots (or no such slot). */
  parseKeySlot(text: string): number | undefined {
    return this.driver.parseKeySlot?.(text);
  }

  /** What this card's family can do (commands branch on these, not on the driver's methods). */
  get capabilities(): DriverCapabilities {
    return driverCapabilities(this.driver);
  }

  get hasKeySlots(): boolean {
    return this.capabilities.keySlots;
  }

  /** True when this card family needs a card-administration key (PIV management key) for keygen and writes. */
  get needsAdminKey(): boolean {
    return this.capabilities.adminKey;
  }

  /** Authenticate the card-administration key (PIV: management key 9B). The caller wipes `key`. */
  authenticateAdmin(key: Uint8Array): Promise<void> {
    const fn = this.driver.authenticateAdmin?.bind(this.driver);
    if (!fn) throw new CardError('CARD_NO_ADMIN_KEY', `a ${this.info.driver} card has no management key`, { hint: 'Leave out --mgmt-key-file for this card.' });
    return this.run(() => fn(key));
  }

  changeAdminKey(newKey: Uint8Array): Promise<void> {
    const fn = this.driver.changeAdminKey?.bind(this.driver);
    if (!fn) throw new CardError('CARD_NO_ADMIN_KEY', `a ${this.info.driver} card has no management key`);
    return this.run(() => fn(newKey));
  }

  changeUnblockCredential(oldValue: Uint8Array, newValue: Uint8Array): Promise<void> {
    const fn = this.driver.changeUnblockCredential?.bind(this.driver);
    if (!fn) throw new CardError('CARD_UNSUPPORTED_OPERATION', `a ${this.info.driver} card has no separate PUK to change`);
    return this.run(() => fn(oldValue, newValue));
  }

  async attest(keyId: string): Promise<KeyAttestation> {
    const k = await this.findKey(keyId);
    const fn = this.driver.attest?.bind(this.driver);
    if (!fn) throw new CardError('CARD_NO_ATTESTATION', `a ${this.info.driver} card cannot attest its keys`);
    return this.run(() => fn(k.keyRef));
  }

  private async findKey(keyId: string): Promise<CardKeyInfo> {
    const want = keyId.replace(/[\s:]/g, '').toUpperCase();
    const keys = this.keyCache ?? (await this.listKeys());
    const k = keys.find((x) => x.id === want) ?? keys.find((x) => x.label === keyId);
    if (!k) {
      const other = (await this.inventory()).find((x) => x.id === want || x.label === keyId || `slot ${x.keyRef}` === keyId);
      if (other) {
        throw new CardError('KEY_NOT_USABLE', `key "${keyId}" (slot ${other.keyRef}, ${other.type}) on card ${this.info.serial} cannot be used by cardca: ${other.problems.join('; ')}`, {
          hint: 'Use another key (`ca card list` shows which are usable), or generate one with `ca card keygen`.',
        });
      }
      throw new CardError('KEY_NOT_FOUND', `no key with id or label "${keyId}" on card ${this.info.serial}`, {
        hint: 'List the keys with `ca card list`.',
      });
    }
    return k;
  }

  async writeCertificate(keyId: string, certificate: Uint8Array): Promise<void> {
    const k = await this.findKey(keyId);
    await this.run(() => this.driver.writeCertificate(k.keyRef, certificate));
    this.keyCache = undefined;
  }

  /** A key-less CA certificate onto the card; `undefined` when the card family has no place for one. */
  async writeCaCertificate(certificate: Uint8Array, label: string): Promise<{ written: boolean } | undefined> {
    const d = this.driver;
    if (!this.capabilities.caCertificates || !d.writeCaCertificate) return undefined;
    return this.run(() => d.writeCaCertificate!(certificate, label));
  }

  async deleteKey(keyId: string): Promise<void> {
    const k = await this.findKey(keyId);
    await this.run(() => this.driver.deleteKey(k.keyRef));
    this.keyCache = undefined;
  }

  /** Delete whatever occupies key slot `keyRef` (also an incomplete key, which has no usable iD). */
  async deleteKeySlot(keyRef: number): Promise<void> {
    await this.run(() => this.driver.deleteKey(keyRef));
    this.keyCache = undefined;
  }

  async signer(keyId: string): Promise<Signer> {
    const k = await this.findKey(keyId);
    return new CardSigner({
      driver: this.driver,
      keyRef: k.keyRef,
      algorithm: k.algorithm,
      publicKey: k.publicKey,
      lock: (fn) => this.run(fn),
    });
  }

  /**
   * Run a multi-APDU card-family operation (e.g. the SmartCard-HSM DKEK commands in
   * `card/dkek/`) under this session's exclusive lock; the key list is re-read afterwards.
   */
  exclusive<T>(fn: (channel: ApduChannel, driver: CardDriver) => Promise<T>): Promise<T> {
    this.keyCache = undefined;
    return this.run(() => fn(this.channel, this.driver));
  }

  /** See `CardDriver.readDataObject`; `CARD_NO_DATA_OBJECTS` when the card family has none. */
  readDataObject(id: number, label: string): Promise<Uint8Array | undefined> {
    const d = this.driver;
    if (!d.readDataObject) return Promise.reject(noDataObjects(this.info));
    return this.run(() => d.readDataObject!(id, label));
  }

  writeDataObject(id: number, data: Uint8Array, label: string): Promise<void> {
    const d = this.driver;
    if (!d.writeDataObject) return Promise.reject(noDataObjects(this.info));
    return this.run(() => d.writeDataObject!(id, data, label));
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}

function noDataObjects(info: CardInfo): CardError {
  return new CardError('CARD_NO_DATA_OBJECTS', `card ${info.serial} (${info.driver}) has no PIN-protected data objects`, {
    hint: 'Checkpoints are kept in the file copy only for this card family.',
  });
}
