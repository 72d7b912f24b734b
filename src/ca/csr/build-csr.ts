import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Attributes, CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier, Attribute, Extension, Extensions, Name, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import type { SignatureAlgorithm, Signer } from '../../crypto/signer.js';
import { CsrError } from '../errors.js';
import { subjectAltNameExtension, type SanEntry } from '../x509/extensions.js';
import { encodeName, type NameAttribute } from '../x509/name.js';
import { signatureAlgorithmIdentifier } from '../x509/signature-algorithm-identifier.js';
import { parseCsr } from './parse-csr.js';
import type { ParsedCsr } from './parsed-csr.js';

/** PKCS#9 extensionRequest (RFC 2985 §5.4.2). */
const id_extensionRequest = '1.2.840.113549.1.9.14';

export interface BuildCsrRequest {
  /** Subject in RDNSequence order (see `parseRfc4514`). */
  readonly subject: readonly NameAttribute[];
  /** subjectAltName entries, sent in an extensionRequest (absent when empty). */
  readonly sans?: readonly SanEntry[];
  /** Default: the signer's preferred algorithm (PKCS#1 v1.5 for RSA, the curve's hash for ECDSA). */
  readonly signatureAlgorithm?: SignatureAlgorithm;
}

export interface BuiltCsr {
  readonly der: Uint8Array;
  /** The CSR as cardca's own strict parser reads it (it verified the signature). */
  readonly parsed: ParsedCsr;
}

function ab(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
}

/**
 * A PKCS#10 request (RFC 2986) signed by `signer` — a key on a card — for the signer's own
 * public key. The signature is made over the exact DER of CertificationRequestInfo, and the
 * result goes through `parseCsr` (strict DER, signature verified with the embedded key) before it
 * is returned: a request cardca writes is one cardca itself would accept.
 */
export async function buildCsr(signer: Signer, req: BuildCsrRequest): Promise<BuiltCsr> {
  const alg = req.signatureAlgorithm ?? signer.algorithms()[0];
  if (!alg || !signer.algorithms().includes(alg)) {
    throw new CsrError('CSR_ALGORITHM_UNSUPPORTED', `the key cannot sign with ${String(alg)}`, { hint: `Use one of: ${signer.algorithms().join(', ')}.` });
  }
  const sans = req.sans ?? [];
  const attributes: Attribute[] = [];
  if (sans.length > 0) {
    const san = subjectAltNameExtension(sans, false);
    const exts = new Extensions([new Extension({ extnID: san.oid, critical: false, extnValue: new OctetString(ab(san.value)) })]);
    attributes.push(new Attribute({ type: id_extensionRequest, values: [AsnConvert.serialize(exts)] }));
  }
  const info = new CertificationRequestInfo({
    version: 0,
    subject: AsnConvert.parse(encodeName(req.subject), Name),
    subjectPKInfo: AsnConvert.parse(signer.publicKey(), SubjectPublicKeyInfo),
    attributes: new Attributes(attributes),
  });
  const infoDer = new Uint8Array(AsnConvert.serialize(info));
  const signature = await signer.sign(infoDer, alg);
  const csr = new CertificationRequest({
    certificationRequestInfo: info,
    signatureAlgorithm: AsnConvert.parse(signatureAlgorithmIdentifier(alg), AlgorithmIdentifier),
    signature: ab(signature),
  });
  const der = new Uint8Array(AsnConvert.serialize(csr));
  const parsed = parseCsr(der);
  return { der, parsed };
}
