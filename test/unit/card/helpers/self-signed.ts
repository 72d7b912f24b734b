import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate, Name, SubjectPublicKeyInfo, TBSCertificate, Validity, Version } from '@peculiar/asn1-x509';
import { AsnParser } from '@peculiar/asn1-schema';
import { signatureAlgorithmInfo } from '../../../../src/crypto/algorithms.js';
import type { Signer } from '../../../../src/crypto/signer.js';
import { RelativeDistinguishedName, AttributeTypeAndValue, AttributeValue } from '@peculiar/asn1-x509';

/** A minimal self-signed certificate made through a Signer (for card storage tests only). */
export async function selfSignedForTest(signer: Signer, cn: string): Promise<Uint8Array> {
  const alg = signer.algorithms()[0]!;
  const info = signatureAlgorithmInfo(alg);
  const sigAlg = new AlgorithmIdentifier({ algorithm: info.oid });
  const name = new Name([
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: cn.replace(/^CN=/, '') }) })]),
  ]);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: new Uint8Array([0x01]).buffer,
    signature: sigAlg,
    issuer: name,
    validity: new Validity({ notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2036-01-01T00:00:00Z') }),
    subject: name,
    subjectPublicKeyInfo: AsnParser.parse(signer.publicKey(), SubjectPublicKeyInfo),
  });
  const tbsDer = new Uint8Array(AsnConvert.serialize(tbs));
  const sig = await signer.sign(tbsDer, alg);
  const cert = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: sigAlg, signatureValue: sig.slice().buffer });
  return new Uint8Array(AsnConvert.serialize(cert));
}
