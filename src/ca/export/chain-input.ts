/**
 * Parses and checks a {@link ChainExportInput} before any renderer formats it, so every format
 * refuses the same bad inputs with the same error: unparsable or non-DER certificates, a chain
 * out of order (RFC 5280 §6.1: each certificate's issuer is the next one's subject; the last
 * is self-issued), a CRL that belongs to no CA of the chain, and — when the format is meant
 * for a concentrator that checks every level (OpenSSL `X509_V_FLAG_CRL_CHECK_ALL`, used by
 * OpenVPN's `--crl-verify`; ca-invariants.md §2.3) — a CA level without its CRL.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  Certificate,
  CertificateList,
  id_ce_authorityKeyIdentifier,
  id_ce_subjectKeyIdentifier,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { bytesEqual } from '../../common/hex.js';
import { ExportError } from './export-error.js';
import type { ChainExportInput } from './export-types.js';
import { assertNoPrivateData } from './private-data-guard.js';

export interface ParsedCert {
  readonly der: Uint8Array;
  readonly cert: Certificate;
  readonly subjectDer: Uint8Array;
  readonly issuerDer: Uint8Array;
  readonly ski: Uint8Array | undefined;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  readonly crl: CertificateList;
  readonly issuerDer: Uint8Array;
  /** Index into the chain of the CA that issued this CRL. */
  readonly level: number;
}

export interface ParsedChain {
  readonly certs: readonly ParsedCert[];
  /** Same order as `certs` (level i = the CRL issued by certs[i]); undefined where absent. */
  readonly crlsByLevel: readonly (ParsedCrl | undefined)[];
  readonly names: readonly string[];
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkExportName(name: string, what = 'export name'): string {
  if (!NAME_RE.test(name)) {
    throw new ExportError('EXPORT_INPUT_INVALID', `${what} ${JSON.stringify(name)} is not a safe file name`, {
      hint: 'Use 1–64 characters from A–Z, a–z, 0–9, ".", "_" and "-", not starting with "." or "-".',
    });
  }
  return name;
}

export function parseCertificateDer(der: Uint8Array, what: string): ParsedCert {
  assertNoPrivateData(der, what);
  let cert: Certificate;
  try {
    cert = AsnConvert.parse(der, Certificate);
  } catch (e) {
    throw new ExportError('EXPORT_INPUT_INVALID', `${what} is not a DER X.509 certificate`, {
      hint: 'Pass certificates as DER bytes (decode PEM first).',
      cause: e,
    });
  }
  // The PKCS#7 writer re-encodes parsed certificates; refuse anything that would not
  // round-trip byte for byte (BER, non-minimal lengths), so exports never alter a signature.
  const again = new Uint8Array(AsnConvert.serialize(cert));
  if (!bytesEqual(again, der)) {
    throw new ExportError('EXPORT_NOT_DER', `${what} is not in canonical DER (X.690 §10)`, {
      hint: 'cardca only exports certificates it can reproduce byte for byte; re-issue or fix the source.',
    });
  }
  const tbs = cert.tbsCertificate;
  let ski: Uint8Array | undefined;
  for (const ext of tbs.extensions ?? []) {
    if (ext.extnID === id_ce_subjectKeyIdentifier) {
      ski = new Uint8Array(AsnConvert.parse(ext.extnValue, SubjectKeyIdentifier).buffer);
    }
  }
  return {
    der,
    cert,
    subjectDer: new Uint8Array(AsnConvert.serialize(tbs.subject)),
    issuerDer: new Uint8Array(AsnConvert.serialize(tbs.issuer)),
    ski,
  };
}

function parseCrlDer(der: Uint8Array, what: string): { crl: CertificateList; issuerDer: Uint8Array; aki: Uint8Array | undefined } {
  assertNoPrivateData(der, what);
  let crl: CertificateList;
  try {
    crl = AsnConvert.parse(der, CertificateList);
  } catch (e) {
    throw new ExportError('EXPORT_INPUT_INVALID', `${what} is not a DER X.509 CRL`, {
      hint: 'Pass CRLs as DER bytes (decode PEM first).',
      cause: e,
    });
  }
  let aki: Uint8Array | undefined;
  for (const ext of crl.tbsCertList.crlExtensions ?? []) {
    if (ext.extnID === id_ce_authorityKeyIdentifier) {
      const v = AsnConvert.parse(ext.extnValue, AuthorityKeyIdentifier);
      if (v.keyIdentifier) aki = new Uint8Array(v.keyIdentifier.buffer);
    }
  }
  return { crl, issuerDer: new Uint8Array(AsnConvert.serialize(crl.tbsCertList.issuer)), aki };
}

export interface ParseChainOptions {
  /** Every CA level must have exactly one CRL (concentrator formats). */
  requireAllCrls: boolean;
}

export function parseChainInput(input: ChainExportInput, options: ParseChainOptions): ParsedChain {
  if (input.chain.length === 0) {
    throw new ExportError('EXPORT_INPUT_INVALID', 'the chain is empty', {
      hint: 'Pass the issuing CA certificate first and the root last.',
    });
  }
  if (input.names.length !== input.chain.length) {
    throw new ExportError('EXPORT_INPUT_INVALID', `got ${input.names.length} names for ${input.chain.length} certificates`, {
      hint: 'Give one file-safe name per chain element, in chain order.',
    });
  }
  const names = input.names.map((n) => checkExportName(n, 'CA name'));
  if (new Set(names).size !== names.length) {
    throw new ExportError('EXPORT_INPUT_INVALID', `CA names are not unique: ${names.join(', ')}`, {
      hint: 'Each CA in the chain needs its own name (they become file names).',
    });
  }
  const certs = input.chain.map((der, i) => parseCertificateDer(der, `chain[${i}] (${names[i]})`));
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!bytesEqual(certs[i]!.issuerDer, certs[i + 1]!.subjectDer)) {
      throw new ExportError('EXPORT_CHAIN_ORDER', `chain[${i}] (${names[i]}) was not issued by chain[${i + 1}] (${names[i + 1]})`, {
        hint: 'Order the chain issuing CA first, then each issuer, the root last.',
      });
    }
  }
  const last = certs[certs.length - 1]!;
  if (!bytesEqual(last.issuerDer, last.subjectDer)) {
    throw new ExportError('EXPORT_CHAIN_ORDER', `the last certificate (${names[names.length - 1]}) is not a self-issued root`, {
      hint: 'Include the root certificate as the last element of the chain.',
    });
  }

  const crlsByLevel: (ParsedCrl | undefined)[] = certs.map(() => undefined);
  input.crls.forEach((der, j) => {
    const { crl, issuerDer, aki } = parseCrlDer(der, `crls[${j}]`);
    const level = certs.findIndex(
      (c) => bytesEqual(c.subjectDer, issuerDer) && (aki === undefined || c.ski === undefined || bytesEqual(aki, c.ski)),
    );
    if (level < 0) {
      throw new ExportError('EXPORT_INPUT_INVALID', `crls[${j}] was not issued by any CA of the chain`, {
        hint: 'Pass the current CRL of each CA in the chain, nothing else.',
      });
    }
    if (crlsByLevel[level] !== undefined) {
      throw new ExportError('EXPORT_INPUT_INVALID', `two CRLs given for CA ${names[level]}`, {
        hint: 'Pass only the newest CRL of each CA.',
      });
    }
    crlsByLevel[level] = { der, crl, issuerDer, level };
  });
  if (options.requireAllCrls) {
    const missing = names.filter((_, i) => crlsByLevel[i] === undefined);
    if (missing.length > 0) {
      throw new ExportError('EXPORT_CRL_MISSING', `no CRL for CA level(s): ${missing.join(', ')}`, {
        hint:
          'OpenVPN (--crl-verify) and strongSwan check every CA level; a missing CRL means unchecked or refused ' +
          'clients. Sign a CRL for each CA (ca crl --issuer NAME) and export again.',
      });
    }
  }
  return { certs, crlsByLevel, names };
}
