/** Placeholder, filled in below after checking openvpn's output. */
export const OPENSC_PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
export function openscPkcs11Id(_card: { driver: string; serial: string; tokenLabel: string | undefined }, _keyId: string): string {
  return '';
}
