import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicConstraints, Certificate, id_ce_basicConstraints, id_ce_keyUsage, KeyUsage, KeyUsageFlags } from '@peculiar/asn1-x509';
import { bytesEqual, toHex } from '../common/hex.js';
import { applySubjectPolicy } from './cert/subject-policy.js';
import { verifySignedObject } from './cert/verify-issued-certificate.js';
import { obtainKey, StepLog, type CeremonyCard, type CeremonyDeps } from './ceremony.js';
import { orderChain } from './chain.js';
import { buildCsr } from './csr/build-csr.js';
import { CaError } from './errors.js';
import { assertClockSane, codeOf, sha256 } from './issuance.js';
import { children, readSingle, slice } from './x509/der.js';
import { decodeName, formatName } from './x509/name.js';

/**
 * A sub-CA whose root is someone else's (issue #11 item 1): `requestExternalSubCa` generates
 * (or reuses) the key on the sub-CA card, binds it in the database without a parent, and returns
 * a PKCS#10 request signed by that card key with the subject the CA profile fixes.
 * `importExternalSubCaCertificate` finishes it: the certificate must carry exactly that key, be
 * a CA certificate, and verify up an external chain that ends in a self-signed root; then it is
 * written to the card and recorded. Both halves go to the audit log as ceremony records.
 */
export interface ExternalRequestResult {
  readonly caName: string;
  readonly ceremonyId: string;
  readonly csr: Uint8Array;
  readonly key: { readonly id: string; readonly algorithm: string; readonly spkiSha256: string };
  readonly subject: string;
}

export async function requestExternalSubCa(deps: CeremonyDeps, o: { caName: string; card: CeremonyCard; keyId?: string }): Promise<ExternalRequestResult> {
  const node = deps.profiles.ca(o.caName);
  const now = deps.clock.now();
  assertClockSane(deps.store, now);
  if (deps.store.getCa(node.name)) throw new CaError('CA_EXISTS', `CA ${node.name} already exists`, { hint: 'To finish an external request use --import-cert FILE.' });
  const subject = applySubjectPolicy(node.profile.subject, []);
  const start = deps.store.audit({ event: 'ceremony.start', ca: node.name, data: { kind: 'subca-external-request' } }, now);
  const log = new StepLog(deps, node.name, String(start.seq));
  try {
    log.done(`sub-CA card ${o.card.info.serial} in "${o.card.info.reader}" opened, PIN verified`, { card: o.card.info.serial });
    const key = await obtainKey(o.card, o.keyId, node.profile.key, `cardca ${node.name}`, log);
    const spkiSha256 = sha256(key.publicKey);
    deps.store.createCa(
      { name: node.name, profileName: node.profile.name, cardSerial: o.card.info.serial, cardFamily: o.card.info.driver, keyId: key.id, keyRef: key.keyRef, publicKey: key.publicKey, spkiSha256 },
      { event: 'ca.bound', ca: node.name, data: { card: o.card.info.serial, cardFamily: o.card.info.driver, keyId: key.id, keyRef: key.keyRef, spkiSha256: toHex(spkiSha256), parent: 'external' } },
      deps.clock.now(),
    );
    log.done('bound the key to the CA in the database (parent: external root)');
    const built = await buildCsr(await o.card.signer(key.id), { subject });
    log.done(`signed the request on card ${o.card.info.serial} (${built.parsed.signatureAlgorithm}), verified`, { csrSha256: toHex(sha256(built.der)) });
    deps.store.audit({ event: 'ceremony.end', ca: node.name, data: { ceremony: log.ceremonyId, status: 'success', csrSha256: toHex(sha256(built.der)) } }, deps.clock.now());
    return { caName: node.name, ceremonyId: log.ceremonyId, csr: built.der, key: { id: key.id, algorithm: key.algorithm, spkiSha256: toHex(spkiSha256) }, subject: formatName(subject) };
  } catch (e) {
    deps.store.audit({ event: 'ceremony.end', ca: node.name, data: { ceremony: log.ceremonyId, status: 'failed', code: codeOf(e), message: (e as Error).message } }, deps.clock.now());
    throw e;
  }
}

function tbsOf(der: Uint8Array): Uint8Array {
  return slice(der, children(der, readSingle(der))[0]!);
}

function parseCert(der: Uint8Array, what: string): Certificate {
  try {
    return AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new CaError('CA_CERT_MALFORMED', `${what} is not an X.509 certificate`, { cause: e, hint: 'Pass the PEM or DER certificate the external CA returned.' });
  }
}

function assertCaCertificate(c: Certificate, what: string): void {
  const ext = c.tbsCertificate.extensions ?? [];
  const bc = ext.find((e) => e.extnID === id_ce_basicConstraints);
  const ku = ext.find((e) => e.extnID === id_ce_keyUsage);
  const isCa = bc !== undefined && AsnConvert.parse(bc.extnValue.buffer, BasicConstraints).cA;
  const canSign = ku === undefined || (AsnConvert.parse(ku.extnValue.buffer, KeyUsage).toNumber() & KeyUsageFlags.keyCertSign) !== 0;
  if (!isCa || !canSign) throw new CaError('CA_CERT_NOT_CA', `${what} is not a CA certificate (basicConstraints cA and keyUsage keyCertSign are needed, RFC 5280 §4.2.1.9)`);
}

function spkiOf(c: Certificate): Uint8Array {
  return new Uint8Array(AsnConvert.serialize(c.tbsCertificate.subjectPublicKeyInfo));
}

export interface ImportResult {
  readonly caName: string;
  readonly certificate: Uint8Array;
  /** The external chain, issuing CA first … self-signed root last. */
  readonly chain: readonly Uint8Array[];
  readonly subject: string;
  readonly notAfter: Date;
}

export async function importExternalSubCaCertificate(
  deps: CeremonyDeps,
  o: { caName: string; certificate: Uint8Array; chain: readonly Uint8Array[]; card: () => Promise<CeremonyCard> },
): Promise<ImportResult> {
  const now = deps.clock.now();
  assertClockSane(deps.store, now);
  const ca = deps.store.getCa(o.caName);
  if (!ca) throw new CaError('CA_NOT_PENDING', `CA ${o.caName} has no pending request`, { hint: `Run \`ca ceremony subca ${o.caName} --external-root\` first.` });
  if (ca.certificate) throw new CaError('CA_EXISTS', `CA ${o.caName} already has its certificate`);
  if (ca.parentName !== undefined) throw new CaError('CA_NOT_EXTERNAL', `CA ${o.caName} is under ${ca.parentName} of this installation, not an external root`);
  // Everything is checked before the card or the database changes.
  const cert = parseCert(o.certificate, 'the certificate');
  if (!bytesEqual(sha256(spkiOf(cert)), ca.spkiSha256)) {
    throw new CaError('CA_CERT_KEY_MISMATCH', `the certificate is not for the key of ${o.caName} (key id ${ca.keyId} on card ${ca.cardSerial})`, {
      hint: 'It certifies another key: check you were given the certificate for this request.',
    });
  }
  assertCaCertificate(cert, 'the certificate');
  if (o.chain.length === 0) throw new CaError('CA_CHAIN_MISSING', 'the external chain is empty', { hint: 'Pass --chain FILE with the external issuing CA(s) and the root.' });
  const chain = orderChain(o.chain);
  const path = [o.certificate, ...chain];
  for (let i = 0; i < path.length; i++) {
    const c = parseCert(path[i]!, i === 0 ? 'the certificate' : `chain certificate ${i}`);
    const nb = c.tbsCertificate.validity.notBefore.getTime();
    const na = c.tbsCertificate.validity.notAfter.getTime();
    if (now < nb || now > na) throw new CaError('CA_CHAIN_EXPIRED', `${formatSubject(c)} is not valid now (${nb.toISOString()} … ${na.toISOString()})`);
    if (i > 0) assertCaCertificate(c, formatSubject(c));
    const issuer = i + 1 < path.length ? parseCert(path[i + 1]!, `chain certificate ${i + 1}`) : c;
    const issuerName = new Uint8Array(AsnConvert.serialize(c.tbsCertificate.issuer));
    if (!bytesEqual(issuerName, new Uint8Array(AsnConvert.serialize(issuer.tbsCertificate.subject)))) {
      throw new CaError('CA_CHAIN_BROKEN', i + 1 < path.length ? `${formatSubject(c)} was not issued by ${formatSubject(issuer)}` : `the chain does not end in a self-signed root (${formatSubject(c)} is not self-issued)`, {
        hint: 'Pass the external issuing CA and every CA above it, up to the root.',
      });
    }
    verifySignedObject(path[i]!, tbsOf(path[i]!), spkiOf(issuer), 2, i === 0 ? 'certificate' : 'chain certificate');
  }
  const start = deps.store.audit({ event: 'ceremony.start', ca: o.caName, data: { kind: 'subca-external-import' } }, deps.clock.now());
  const log = new StepLog(deps, o.caName, String(start.seq));
  try {
    log.done(`the certificate carries the ${o.caName} key, is a CA certificate and verifies up the external chain to ${formatSubject(parseCert(path[path.length - 1]!, 'root'))}`, {
      sha256: toHex(sha256(o.certificate)),
      chain: chain.map((c) => toHex(sha256(c))),
    });
    const card = await o.card();
    if (card.info.serial !== ca.cardSerial) throw new CaError('CARD_WRONG', `card ${card.info.serial} is not the card of ${o.caName} (${ca.cardSerial})`, { hint: `Insert card ${ca.cardSerial}.` });
    await card.writeCertificate(ca.keyId, o.certificate);
    log.done(`wrote the certificate to card ${ca.cardSerial}`);
    const serialHex = toHex(new Uint8Array(cert.tbsCertificate.serialNumber)).toUpperCase();
    deps.store.setCaCertificate(o.caName, o.certificate, { event: 'ca.certificate', ca: o.caName, data: { serial: serialHex, sha256: toHex(sha256(o.certificate)), issuer: 'external' } }, deps.clock.now());
    log.done(`recorded the ${o.caName} certificate in the database`);
    deps.store.audit({ event: 'ceremony.end', ca: o.caName, data: { ceremony: log.ceremonyId, status: 'success', certificateSha256: toHex(sha256(o.certificate)) } }, deps.clock.now());
    return { caName: o.caName, certificate: o.certificate, chain, subject: formatSubject(cert), notAfter: cert.tbsCertificate.validity.notAfter.getTime() };
  } catch (e) {
    deps.store.audit({ event: 'ceremony.end', ca: o.caName, data: { ceremony: log.ceremonyId, status: 'failed', code: codeOf(e), message: (e as Error).message } }, deps.clock.now());
    throw e;
  }
}

function formatSubject(c: Certificate): string {
  return formatName(decodeName(new Uint8Array(AsnConvert.serialize(c.tbsCertificate.subject))));
}
