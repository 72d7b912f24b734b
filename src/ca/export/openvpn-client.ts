/**
 * `ca export openvpn-client`: one client's `.ovpn` profile (OpenVPN 2.6 reference manual,
 * doc/man-sections: `client`, `ca`/`cert`/`key`/`extra-certs` and their inline `<tag>` forms,
 * `remote-cert-tls server`, `verify-x509-name NAME name`, `tls-crypt`, `pkcs11-id`), rendered
 * from templates/export/openvpn-client.ovpn.hbs.
 *
 * - `ca` is the chain that issued the *server* certificate (the client verifies the server).
 * - `extra-certs` carries the client's own sub-CA(s), so a server that trusts only the root can
 *   still build the client's chain.
 * - The private key is never in cardca's hands: the profile names the file to put next to it,
 *   or, for tokens, uses `pkcs11-providers` + `pkcs11-id` instead of `cert`/`key` (the token
 *   flavour: `ca enroll --ovpn` and `ca export openvpn-client --pkcs11-id`), with `pkcs11-id`
 *   exactly as `openvpn --show-pkcs11-ids MODULE` prints it (pkcs11-helper's serialized id).
 * - Without a remote host the `remote` line is a commented placeholder; without a server name
 *   there is no `verify-x509-name` (the operator adds it; `remote-cert-tls server` stays).
 * - With a tls-crypt key the profile (inline) or `tls-crypt.key` is a secret: mode 0600.
 */
import { type ExportFile, PUBLIC_MODE } from './export-types.js';
import { pemEncode } from './pem.js';
import { encodeOpenvpnStaticKey } from './openvpn-static-key.js';
import { assertNoPrivateDataInFiles } from './private-data-guard.js';
import { loadTemplate, renderTemplate } from './template-loader.js';

export const SECRET_MODE = 0o600;

export interface OpenvpnClientInput {
  /** File-safe base name (`[A-Za-z0-9._-]`), e.g. the client's CN. */
  readonly name: string;
  readonly clientName: string;
  readonly serialHex: string;
  readonly issuingCa: string;
  /** The client certificate (DER). */
  readonly clientCert: Uint8Array;
  /** The client's CA chain without the root (DER, issuing CA first); may be empty. */
  readonly clientIntermediates: readonly Uint8Array[];
  /** The chain that issued the server certificate, issuing CA first … root (DER). */
  readonly serverTrust: readonly Uint8Array[];
  /** `host` absent: a commented placeholder line for the operator to fill in. */
  readonly remote: { readonly host: string | undefined; readonly port: number; readonly proto: 'udp' | 'tcp' };
  /** The server certificate's subject CN, for verify-x509-name (absent: no such line). */
  readonly serverName: string | undefined;
  /** 256-byte tls-crypt key, when the CA home has one. */
  readonly tlsCrypt?: Uint8Array;
  readonly inline: boolean;
  /** Token flavour: the key and certificate stay on a PKCS#11 token. */
  readonly pkcs11?: { readonly provider: string; readonly id: string; readonly cardSerial?: string };
  readonly tlsCertProfile?: 'legacy' | 'preferred' | 'suiteb';
  readonly template?: string;
  readonly templateRoot?: string;
}

const pems = (ders: readonly Uint8Array[]): string => ders.map((d) => pemEncode('CERTIFICATE', d)).join('');

export function renderOpenvpnClient(i: OpenvpnClientInput): ExportFile[] {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(i.name)) throw new RangeError(`not a file-safe name: ${i.name}`);
  // One config line each; the id sits inside single quotes, so it may not hold one.
  if (i.pkcs11 && (/['\r\n]/.test(i.pkcs11.id) || /[\s'"]/.test(i.pkcs11.provider))) throw new TypeError('pkcs11 values must be single lines, the id without quotes, the module path without spaces');
  for (const v of [i.remote.host, i.serverName, i.clientName]) if (v !== undefined && /[\r\n]/.test(v)) throw new TypeError(`not a single line: ${JSON.stringify(v)}`);
  const files = {
    ovpn: `${i.name}.ovpn`,
    ca: 'ca.pem',
    cert: `${i.name}.crt`,
    key: `${i.name}.key`,
    extra: 'extra-certs.pem',
    tlsCrypt: 'tls-crypt.key',
  };
  const tlsCryptText = i.tlsCrypt ? encodeOpenvpnStaticKey(i.tlsCrypt) : '';
  const extraPem = pems(i.clientIntermediates);
  const text = renderTemplate(
    'openvpn-client.ovpn.hbs',
    i.template ?? loadTemplate('export/openvpn-client.ovpn.hbs', i.templateRoot),
    {
      clientName: i.clientName,
      serialHex: i.serialHex,
      issuingCa: i.issuingCa,
      proto: i.remote.proto,
      host: i.remote.host,
      port: i.remote.port,
      serverName: i.serverName,
      tlsCertProfile: i.tlsCertProfile ?? 'preferred',
      inline: i.inline,
      caPem: pems(i.serverTrust),
      caFile: files.ca,
      certPem: pems([i.clientCert]),
      certFile: files.cert,
      keyFile: files.key,
      extraPem,
      extraFile: files.extra,
      pkcs11: i.pkcs11 ?? false,
      tokenSerial: i.pkcs11?.cardSerial ?? '',
      tlsCrypt: i.tlsCrypt !== undefined,
      tlsCryptText,
      tlsCryptFile: files.tlsCrypt,
    },
    { noEscape: true },
  ).replace(/\n{3,}/g, '\n\n');
  const secretProfile = i.inline && i.tlsCrypt !== undefined;
  const out: ExportFile[] = [{ path: files.ovpn, bytes: Buffer.from(text, 'utf8'), mode: secretProfile ? SECRET_MODE : PUBLIC_MODE }];
  if (!i.inline) {
    out.push({ path: files.ca, bytes: Buffer.from(pems(i.serverTrust), 'utf8'), mode: PUBLIC_MODE });
    if (!i.pkcs11) out.push({ path: files.cert, bytes: Buffer.from(pems([i.clientCert]), 'utf8'), mode: PUBLIC_MODE });
    if (extraPem) out.push({ path: files.extra, bytes: Buffer.from(extraPem, 'utf8'), mode: PUBLIC_MODE });
    if (i.tlsCrypt) out.push({ path: files.tlsCrypt, bytes: Buffer.from(tlsCryptText, 'utf8'), mode: SECRET_MODE });
  }
  assertNoPrivateDataInFiles(out);
  return out;
}
