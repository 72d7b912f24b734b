import type { CardDriver, DriverCapabilities } from './card-driver.js';

/**
 * The capabilities of `driver`: what it declares, or, for a driver written before
 * `capabilities` existed, what its optional operations imply. This is the one place that looks
 * at which methods a driver has; commands ask the session's `capabilities`.
 */
export function driverCapabilities(driver: CardDriver): DriverCapabilities {
  if (driver.capabilities) {
    const p = driver.capabilities.pkcs15Personalisation ?? driver.pkcs15Personalisation;
    return p ? { ...driver.capabilities, pkcs15Personalisation: p } : driver.capabilities;
  }
  return {
    unblockCredential: driver.unblockCredential ?? 'so-pin',
    adminKey: driver.authenticateAdmin !== undefined,
    keySlots: driver.parseKeySlot !== undefined,
    attestation: driver.attest !== undefined,
    caCertificates: driver.writeCaCertificate !== undefined,
    ...(driver.pkcs15Personalisation ? { pkcs15Personalisation: driver.pkcs15Personalisation } : {}),
    dkekBackup: false,
    userPinLength: { min: 6, max: 16 },
  };
}
