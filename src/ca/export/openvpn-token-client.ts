import { pemEncode } from './pem.js';

/**
 * A client `.ovpn` for a certificate whose key lives on a token (OpenVPN 2.6
 * `doc/man-sections/pkcs11-options.rst`): `pkcs11-providers` names the PKCS#11 module,
 * `pkcs11-id` the certificate/key exactly as `openvpn --show-pkcs11-ids MODULE` prints it
 * (pkcs11-helper's serialized id), and the CA chain is inline. The PIN is asked at connect time
 * (or over the management interface); it is never in the file. Lines match the other OpenVPN
 * exports: `remote-cert-tls server`, `tls-cert-profile preferred`.
 */
export interface TokenOvpnInput {
  /** Remote host and port; absent → a commented placeholder line. */
  readonly remote?: { readonly host: string; readonly port: number };
  readonly proto: 'udp' | 'tcp';
  readonly providerPath: string;
  readonly pkcs11Id: string;
  /** CA certificates (DER), issuing CA first … root last. */
  readonly chain: readonly Uint8Array[];
  /** Subject of the token's certificate, for the header comment. */
  readonly subject: string;
  readonly cardSerial: string;
}

export function renderTokenOvpn(i: TokenOvpnInput): string {
  if (/['\r\n]/.test(i.pkcs11Id) || /[\r\n]/.test(i.providerPath)) throw new TypeError('pkcs11 values must be single lines, the id without quotes');
  const lines = [
    `# OpenVPN client for ${i.subject}, key on token ${i.cardSerial} (written by cardca enroll)`,
    '# The token PIN is asked when connecting; it is not stored here.',
    'client',
    'dev tun',
    `proto ${i.proto}`,
    i.remote ? `remote ${i.remote.host} ${i.remote.port}` : '# remote vpn.example.org 1194   <- set the VPN server (or pass --ovpn-remote)',
    'nobind',
    'persist-key',
    'persist-tun',
    'remote-cert-tls server',
    'tls-cert-profile preferred',
    `pkcs11-providers ${i.providerPath}`,
    // Single quotes, as `openvpn --show-pkcs11-ids` asks: inside them OpenVPN's config parser
    // takes the `\xHH` escapes literally and hands them to pkcs11-helper unchanged (the
    // integration test's client reads exactly this line and logs in with the token).
    `pkcs11-id '${i.pkcs11Id}'`,
    '<ca>',
    ...i.chain.map((c) => pemEncode('CERTIFICATE', c).trimEnd()),
    '</ca>',
    'verb 3',
    '',
  ];
  return lines.join('\n');
}
