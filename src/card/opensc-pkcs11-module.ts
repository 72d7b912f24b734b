/**
 * Where Debian's opensc-pkcs11 package installs OpenSC's PKCS#11 module, the default of
 * `ca enroll --pkcs11-module`. On its own, without imports, so that the `ca enroll` definition
 * (`ca enroll --help`) can show it without loading the card stack.
 */
export const OPENSC_PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
