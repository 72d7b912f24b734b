import type { KeyAlgorithm } from '../../crypto/signer.js';
import type { ApduChannel } from '../apdu/apdu-channel.js';
import type { CardKeyInfo, PinStatus } from '../card-service.js';

/**
 * One card family's operations, modelled on OpenSC's `sc_card_operations` (style rule 7): a
 * driver file holds the ATR table, the probe and the operations it implements. Adding MyEID,
 * IsoApplet or PIV means one more file implementing this and one line in `registry.ts`.
 */
export interface DriverFactory {
  readonly name: string;
  /** Cheap check on the ATR alone (historical bytes); may be inconclusive. */
  matchAtr(atr: Uint8Array): boolean;
  /** Definitive probe by SELECT; must not change card state beyond selecting. */
  probe(ch: ApduChannel): Promise<boolean>;
  create(ch: ApduChannel): CardDriver;
}

export interface DeviceInfo {
  readonly serial: string;
  readonly label: string | undefined;
  readonly initialized: boolean;
  readonly version: string | undefined;
  /** Set when the card shows it is an emulator (a test card): how that is known. */
  readonly emulated?: string;
}

export interface InitOptions {
  readonly soPin: Uint8Array;
  readonly userPin: Uint8Array;
  readonly retries: number;
  readonly label: string;
}

/** How the driver signs: the exact card input is built by the caller (CardSigner). */
export type RawSignMode =
  | { readonly kind: 'rsa-raw' } // input: k-byte encoded message (host-padded PKCS#1 v1.5)
  | { readonly kind: 'rsa-pss'; readonly hashLength: number } // input: hash
  | { readonly kind: 'ecdsa' }; // input: hash; output DER

export interface CardDriver {
  readonly name: string;
  /** Select the application; also a logout on SmartCard-HSM. */
  selectApplication(): Promise<void>;
  deviceInfo(): Promise<DeviceInfo>;
  pinStatus(): Promise<PinStatus>;
  soPinStatus(): Promise<PinStatus>;
  verifyPin(pin: Uint8Array): Promise<void>;
  changePin(oldPin: Uint8Array, newPin: Uint8Array): Promise<void>;
  unblockPin(soPin: Uint8Array, newPin: Uint8Array | undefined): Promise<void>;
  initialize(options: InitOptions): Promise<void>;
  listKeys(): Promise<CardKeyInfo[]>;
  generateKey(options: { label: string; algorithm: KeyAlgorithm }): Promise<CardKeyInfo>;
  writeCertificate(keyRef: number, certificate: Uint8Array): Promise<void>;
  deleteKey(keyRef: number): Promise<void>;
  /** One card exchange: the raw signature operation on `keyRef`. */
  sign(keyRef: number, mode: RawSignMode, input: Uint8Array): Promise<Uint8Array>;
  /**
   * A small PIN-protected data object `id` (1..255) that only a PIN holder can read or write
   * (SmartCard-HSM: `CD id`). Absent on card families without one. `undefined`: no such object.
   */
  readDataObject?(id: number): Promise<Uint8Array | undefined>;
  writeDataObject?(id: number, data: Uint8Array): Promise<void>;
}
