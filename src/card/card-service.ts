import type { KeyAlgorithm, Signer } from '../crypto/signer.js';

/**
 * What the rest of cardca (the CLI and its ceremonies) may ask of a card. Implemented by the
 * built-in card stack (PC/SC transport → APDU layer → driver). Nothing here ever carries a
 * private key: keys are generated on the card and only signatures come back.
 */
export interface CardInfo {
  /** PC/SC reader name the card sits in. */
  readonly reader: string;
  /** Card serial (SmartCard-HSM: CHR of the device certificate minus its last 5 characters). */
  readonly serial: string;
  /** Token label from TokenInfo, when initialised. */
  readonly label: string | undefined;
  readonly initialized: boolean;
  /** Driver name, e.g. "sc-hsm". */
  readonly driver: string;
  /** ATR as upper-case hex. */
  readonly atr: string;
  /** Applet / firmware version as "major.minor". */
  readonly version: string | undefined;
  /** TokenInfo manufacturerID, when the card has one. */
  readonly manufacturer?: string | undefined;
  /** Set when the card shows it is an emulator (a test card): how that is known. */
  readonly emulated?: string;
  /**
   * The serial number the card's own data gives OpenSC's PKCS#15 view, where that is not
   * `serial` (PIV: hex of the CHUID's GUID or FASC-N, OpenSC card-piv.c `piv_get_serial_nr_from_CHUI`).
   */
  readonly tokenSerial?: string;
  /**
   * The user PIN's label in the card's own PKCS#15 AODF, where it has one (MyEID): OpenSC's
   * PKCS#11 slot label is "TOKEN-LABEL (PIN-LABEL)" (framework-pkcs15.c `pkcs15_init_slot`).
   */
  readonly pinLabel?: string;
}

export type PinState = 'verified' | 'not-verified' | 'blocked' | 'not-initialized' | 'transport';

export interface PinStatus {
  readonly state: PinState;
  /** Tries left, when the card reports it (63Cx). */
  readonly triesLeft: number | undefined;
}

export interface CardKeyInfo {
  /** PKCS#15 iD of the key as upper-case hex (OpenSC default: SHA-1 of the public key). */
  readonly id: string;
  /** Card key reference (SmartCard-HSM: the xx of CCxx). */
  readonly keyRef: number;
  readonly label: string;
  readonly algorithm: KeyAlgorithm;
  /** DER SubjectPublicKeyInfo. */
  readonly publicKey: Uint8Array;
  /** DER X.509 certificate stored next to the key, if any. */
  readonly certificate: Uint8Array | undefined;
}

/**
 * Everything `ca card list` shows about one key slot, whether or not cardca can sign with it:
 * foreign keys (RSA-1024, brainpool, secp256k1, …) keep their real `type`, and a key whose
 * public key cannot be read (an interrupted key generation) is listed with `state` "incomplete"
 * instead of being dropped. `CardKeyInfo` is the usable subset.
 */
export interface CardKeyEntry {
  /** PKCS#15 iD as upper-case hex (from the PrKDF, else OpenSC's intrinsic iD); "" when unknown. */
  readonly id: string;
  readonly keyRef: number;
  readonly label: string;
  /** Real key type: rsa1024…rsa4096, p256, p384, p521, brainpoolP256r1, secp256k1, … or "unknown". */
  readonly type: string;
  readonly bits: number | undefined;
  /** Set when cardca signs with this key type. */
  readonly algorithm: KeyAlgorithm | undefined;
  /** complete: public key readable; incomplete: key present, public key not (interrupted keygen or damage). */
  readonly state: 'complete' | 'incomplete';
  /** True when cardca can sign with the key (complete and of a supported type). */
  readonly usable: boolean;
  /** Why the key is not usable, or what is odd about it (e.g. an unparseable PrKDF entry). */
  readonly problems: readonly string[];
  readonly publicKey: Uint8Array | undefined;
  readonly certificate: Uint8Array | undefined;
}

export interface CardSelector {
  reader?: string;
  serial?: string;
}

export interface CardSession {
  readonly info: CardInfo;
  /** Tries left for the user PIN; never spends a try. */
  pinStatus(): Promise<PinStatus>;
  /** Tries left for the SO-PIN; never spends a try. */
  soPinStatus(): Promise<PinStatus>;
  /** VERIFY the user PIN. The buffer is wiped by the caller after use. Throws a PIN error with triesLeft. */
  verifyPin(pin: Uint8Array): Promise<void>;
  listKeys(): Promise<CardKeyInfo[]>;
  generateKey(options: { label: string; algorithm: KeyAlgorithm }): Promise<CardKeyInfo>;
  /** Store a certificate next to key `keyId` (replaces the generation placeholder). */
  writeCertificate(keyId: string, certificate: Uint8Array): Promise<void>;
  /** A Signer for key `keyId`. The PIN must have been verified in this session. */
  signer(keyId: string): Promise<Signer>;
  close(): Promise<void>;
}

export interface CardService {
  listCards(): Promise<CardInfo[]>;
  /** Open a session on the card chosen by reader name or serial (exactly one must match). */
  open(selector: CardSelector, options?: { timeoutMs?: number }): Promise<CardSession>;
  close(): Promise<void>;
}
