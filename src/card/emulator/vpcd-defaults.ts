/**
 * Where vpcd (vsmartcard's virtual PC/SC reader) listens by default: 35963 is "Virtual PCD 00 00"
 * (vsmartcard's vpcd documentation). On their own, without imports, so that the `ca emulator`
 * definition (`ca emulator --help`) can show them without loading the emulator.
 */
export const VPCD_DEFAULT_HOST = '127.0.0.2';
export const VPCD_DEFAULT_PORT = 35963;
