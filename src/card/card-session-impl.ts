import type { KeyAlgorithm, Signer } from '../crypto/signer.js';
import { ApduChannel, type ApduTracer } from './apdu/apdu-channel.js';
import type { CardInfo, CardKeyInfo, CardSession, PinStatus } from './card-service.js';
import { CardSigner } from './card-signer.js';
import type { CardDriver } from './drivers/card-driver.js';
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
        ...(d.emulated ? { emulated: d.emulated } : {}),
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

  initialize(o: { soPin: Uint8Array; userPin: Uint8Array; retries: number; label: string }): Promise<void> {
    this.keyCache = undefined;
    return this.run(() => this.driver.initialize(o));
  }

  async listKeys(): Promise<CardKeyInfo[]> {
    const keys = await this.run(() => this.driver.listKeys());
    this.keyCache = keys;
    return keys;
  }

  async generateKey(o: { label: string; algorithm: KeyAlgorithm }): Promise<CardKeyInfo> {
    const k = await this.run(() => this.driver.generateKey(o));
    this.keyCache = undefined;
    return k;
  }

  private async findKey(keyId: string): Promise<CardKeyInfo> {
    const want = keyId.replace(/[\s:]/g, '').toUpperCase();
    const keys = this.keyCache ?? (await this.listKeys());
    const k = keys.find((x) => x.id === want) ?? keys.find((x) => x.label === keyId);
    if (!k) {
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

  async deleteKey(keyId: string): Promise<void> {
    const k = await this.findKey(keyId);
    await this.run(() => this.driver.deleteKey(k.keyRef));
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

  /** See `CardDriver.readDataObject`; `CARD_NO_DATA_OBJECTS` when the card family has none. */
  readDataObject(id: number): Promise<Uint8Array | undefined> {
    const d = this.driver;
    if (!d.readDataObject) return Promise.reject(noDataObjects(this.info));
    return this.run(() => d.readDataObject!(id));
  }

  writeDataObject(id: number, data: Uint8Array): Promise<void> {
    const d = this.driver;
    if (!d.writeDataObject) return Promise.reject(noDataObjects(this.info));
    return this.run(() => d.writeDataObject!(id, data));
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
