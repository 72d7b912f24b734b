import type { KeyAlgorithm } from '../../crypto/signer.js';
import type { ApduChannel } from '../apdu/apdu-channel.js';
import type { CardKeyEntry, CardKeyInfo, PinStatus } from '../card-service.js';

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
  /** TokenInfo manufacturerID, when the card has one (OpenSC shows it as the PKCS#11 token manufacturer). */
  readonly manufacturer?: string | undefined;
  /** Set when the card shows it is an emulator (a test card): how that is known. */
  readonly emulated?: string;
  /**
   * The serial number the card's own data gives OpenSC's PKCS#15 view, where that is not
   * `serial` (PIV: hex of the CHUID's GUID or FASC-N, OpenSC card-piv.c `piv_get_serial_nr_from_CHUI`).
   */
  readonly tokenSerial?: string;
  /** The user PIN's AODF label, on real PKCS#15 cards (`CardInfo.pinLabel`). */
  readonly pinLabel?: string;
}

export interface InitOptions {
  readonly soPin: Uint8Array;
  readonly userPin: Uint8Array;
  readonly retries: number;
  readonly label: string;
  /** SmartCard-HSM: number of DKEK shares to expect (INITIALIZE tag 92); absent = none. */
  readonly dkekShares?: number;
  /**
   * Cards personalised as a PKCS#15 file system (`capabilities.pkcs15Personalisation`): the SO PIN
   * now on the card, which a finalised card needs before it can be erased. Wiped by the caller.
   */
  readonly currentSoPin?: Uint8Array;
  /** PKCS#15 personalisation: the operator confirmed that what the card holds may be erased. */
  readonly eraseExisting?: boolean;
  /** TokenInfo lastUpdate, where the family writes one (the injected clock). */
  readonly now?: Date;
}

/**
 * A family that `ca card init` personalises by writing a PKCS#15 file system the way OpenSC's
 * pkcs15-init lays it out (MyEID: pkcs15+onepin). `soPin` of InitOptions is then the new PUK,
 * `userPin` the new PIN; erasing a card that holds anything needs the operator's confirmation
 * (`eraseExisting`) and, once the card is finalised, its current SO PIN (`currentSoPin`).
 */
export interface Pkcs15Personalisation {
  /** What OpenSC calls the layout, for messages ("pkcs15+onepin"). */
  readonly profile: string;
  readonly pinLength: { readonly min: number; readonly max: number };
  readonly pukLength: { readonly min: number; readonly max: number };
  /** Largest `--retries` the card's PIN records take. */
  readonly maxRetries: number;
}

/** How the driver signs: the exact card input is built by the caller (CardSigner). */
export type RawSignMode =
  | { readonly kind: 'rsa-raw' } // input: k-byte encoded message (host-padded PKCS#1 v1.5)
  | { readonly kind: 'rsa-pss'; readonly hashLength: number } // input: hash
  | { readonly kind: 'ecdsa' }; // input: hash; output DER

/**
 * Where and how a new key is made. Families without slots ignore `slot`; families without
 * YubiKey policies ignore the policies. `overwrite` must be set (after a typed confirmation)
 * to replace a key that is already there.
 */
export interface KeyPlacement {
  /** PIV: key reference of the slot (9A, 9C, 9D, 9E, 82–95). */
  readonly slot?: number;
  readonly pinPolicy?: 'default' | 'never' | 'once' | 'always';
  readonly touchPolicy?: 'default' | 'never' | 'always' | 'cached';
  readonly overwrite?: boolean;
}

/** An attestation that a key was generated on the device (YubiKey PIV: ATTEST + the F9 certificate). */
export interface KeyAttestation {
  /** Certificate for the key's public key, signed by the device's attestation key. */
  readonly certificate: Uint8Array;
  /** The attestation key's own certificate (issued by the vendor root). */
  readonly intermediate: Uint8Array;
}

/**
 * What a card family can do, declared by its driver, so commands branch on a capability, never
 * on a family name or on which optional methods a driver happens to have (driver-capabilities.ts
 * fills in a driver that declares none).
 */
export interface DriverCapabilities {
  /** What unblocks the user PIN: SmartCard-HSM SO-PIN (8 bytes, 16 hex digits) or PIV PUK (6–8 characters). */
  readonly unblockCredential: 'so-pin' | 'puk';
  /** Key generation and writes need a card-administration key (PIV management key 9B) first. */
  readonly adminKey: boolean;
  /** Keys live in fixed slots the operator names (`--slot 9c`). */
  readonly keySlots: boolean;
  /** The card attests keys it generated (`ca card attest`). */
  readonly attestation: boolean;
  /** The card keeps CA certificates without a key (`writeCaCertificate`). */
  readonly caCertificates: boolean;
  /** `ca card init` writes a PKCS#15 file system as OpenSC's pkcs15-init would (absent: the family's own init). */
  readonly pkcs15Personalisation?: Pkcs15Personalisation;
  /**
   * Keys leave the card only wrapped under a DKEK shared between cards (SmartCard-HSM key
   * backup): a ceremony checks the DKEK is complete before it generates a CA key.
   */
  readonly dkekBackup: boolean;
  /**
   * Characters a new user PIN may have: SmartCard-HSM 6–16, PIV 6–8 (SP 800-73-4 Part 2 §2.4.3),
   * MyEID 4–8 (myeid.profile `user-pin`, card-myeid.c `myeid_pin_cmd` refuses more than 8).
   */
  readonly userPinLength: { readonly min: number; readonly max: number };
}

export interface CardDriver {
  readonly name: string;
  /** What this family can do; absent: derived from the methods it has (driver-capabilities.ts). */
  readonly capabilities?: DriverCapabilities;
  /**
   * What unblocks the user PIN: the SmartCard-HSM's SO-PIN (8 bytes, 16 hex digits) or a PIV
   * PUK (6–8 characters). Absent = 'so-pin'. Superseded by `capabilities.unblockCredential`.
   */
  readonly unblockCredential?: 'so-pin' | 'puk';
  /** Families `ca card init` personalises as a PKCS#15 file system (MyEID); see DriverCapabilities. */
  readonly pkcs15Personalisation?: Pkcs15Personalisation;
  /** Largest command data field before command chaining, when the family wants chaining (PIV: 255). */
  readonly maxCommandData?: number;
  /**
   * Families whose administrative operations (key generation, certificate writes) need a
   * separate card-administration key (PIV management key, SP 800-73-4 key 9B) authenticate
   * it here. The buffer is wiped by the caller.
   */
  authenticateAdmin?(key: Uint8Array): Promise<void>;
  /** Replace the card-administration key (PIV management key); needs authenticateAdmin first. */
  changeAdminKey?(newKey: Uint8Array): Promise<void>;
  /** Change the unblock credential (PIV PUK). */
  changeUnblockCredential?(oldValue: Uint8Array, newValue: Uint8Array): Promise<void>;
  /**
   * Families whose keys live in fixed slots (PIV) parse an operator's slot name ("9c") into the
   * key reference here; families that allocate references themselves leave it out.
   */
  parseKeySlot?(text: string): number | undefined;
  /** Device attestation of a generated key, where the family has one. */
  attest?(keyRef: number): Promise<KeyAttestation>;
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
  /**
   * Every key slot, including keys cardca cannot sign with and incomplete ones (optional: a
   * driver without it lists only `listKeys()`).
   */
  listKeyEntries?(): Promise<CardKeyEntry[]>;
  generateKey(options: { label: string; algorithm: KeyAlgorithm } & KeyPlacement): Promise<CardKeyInfo>;
  /**
   * Store the certificate of key `keyRef`. Must check that its SPKI is the key's public key
   * before touching the card, and never leave the key without a readable public key.
   */
  writeCertificate(keyRef: number, certificate: Uint8Array): Promise<void>;
  deleteKey(keyRef: number): Promise<void>;
  /**
   * Store a CA certificate that has no key on this card (the issuer above a user's key), where
   * the family has a place OpenSC reads for one (SmartCard-HSM: `CA xx` + `C8 xx`). Absent on
   * families without one (PIV: SP 800-73-4 has no container for a key-less certificate).
   * Idempotent (`written: false`: the card already held it); reads back what it wrote.
   */
  writeCaCertificate?(certificate: Uint8Array, label: string): Promise<{ written: boolean }>;
  /** One card exchange: the raw signature operation on `keyRef`. */
  sign(keyRef: number, mode: RawSignMode, input: Uint8Array): Promise<Uint8Array>;
  /**
   * A small PIN-protected data object `id` (1..255) that only a PIN holder can read or write
   * (SmartCard-HSM: `CD id`). Families that name data objects instead (a PKCS#15 DODF entry, as
   * `pkcs15-init --store-data` writes on a MyEID) use `label`. Absent on card families without
   * one. `undefined`: no such object.
   */
  readDataObject?(id: number, label: string): Promise<Uint8Array | undefined>;
  writeDataObject?(id: number, data: Uint8Array, label: string): Promise<void>;
}
