import type { SignatureAlgorithm } from '../../crypto/signer.js';
import { bytesEqual, fromHex } from '../../common/hex.js';

/**
 * The exact DER AlgorithmIdentifier for each signature algorithm. These are the byte-exact
 * encodings the CA/Browser Forum BR §7.1.3.2.1 prescribes: RSA PKCS#1 v1.5 with NULL
 * parameters (RFC 4055 §5), RSASSA-PSS with explicit hash, MGF1 with the same hash and
 * salt length = hash length, trailerField absent (RFC 4055 §3.1), ECDSA with parameters
 * absent (RFC 5758 §3.2). One table means tbsCertificate.signature and the outer
 * signatureAlgorithm are always the same bytes (RFC 5280 §4.1.1.2).
 */
const ALGORITHM_IDENTIFIER_HEX: Readonly<Record<SignatureAlgorithm, string>> = {
  'rsa-pkcs1-sha256': '300d06092a864886f70d01010b0500',
  'rsa-pkcs1-sha384': '300d06092a864886f70d01010c0500',
  'rsa-pkcs1-sha512': '300d06092a864886f70d01010d0500',
  'rsa-pss-sha256':
    '304106092a864886f70d01010a3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
  'rsa-pss-sha384':
    '304106092a864886f70d01010a3034a00f300d06096086480165030402020500a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130',
  'rsa-pss-sha512':
    '304106092a864886f70d01010a3034a00f300d06096086480165030402030500a11c301a06092a864886f70d010108300d06096086480165030402030500a203020140',
  'ecdsa-sha256': '300a06082a8648ce3d040302',
  'ecdsa-sha384': '300a06082a8648ce3d040303',
  'ecdsa-sha512': '300a06082a8648ce3d040304',
};

/** DER AlgorithmIdentifier for `alg` (fresh copy). */
export function signatureAlgorithmIdentifier(alg: SignatureAlgorithm): Uint8Array {
  const hex = ALGORITHM_IDENTIFIER_HEX[alg];
  if (!hex) throw new TypeError(`unknown signature algorithm ${String(alg)}`);
  return fromHex(hex);
}

/** The table's encodings as bytes, decoded on first use (every CSR and certificate is checked against them). */
let identifierBytes: readonly (readonly [SignatureAlgorithm, Uint8Array])[] | undefined;

/** The signature algorithm whose canonical AlgorithmIdentifier is exactly `der`, if any. */
export function signatureAlgorithmFromIdentifier(der: Uint8Array): SignatureAlgorithm | undefined {
  identifierBytes ??= Object.entries(ALGORITHM_IDENTIFIER_HEX).map(([alg, hex]) => [alg as SignatureAlgorithm, fromHex(hex)] as const);
  for (const [alg, bytes] of identifierBytes) if (bytesEqual(bytes, der)) return alg;
  return undefined;
}
