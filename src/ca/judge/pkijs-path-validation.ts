import * as pkijs from 'pkijs';

/**
 * A second, independent implementation judges what cardca issued (issue 9 item 5): pkijs'
 * CertificateChainValidationEngine does RFC 5280 §6 path validation (signatures, validity at
 * the check date, basicConstraints/keyUsage of issuers, name constraints, policies) and, given
 * CRLs, requires a valid unexpired CRL from the issuer of every certificate below the trust
 * anchor and refuses a listed serial: the `openssl verify -crl_check_all` semantics.
 *
 * pkijs is heavy: import this module only from the commands that use it (dynamic import).
 * cardca's own code (parsers, lint) is deliberately not used here, so the judge does not
 * share our bugs.
 */
export interface PathValidationInput {
  /** The certificate to judge, DER. */
  readonly target: Uint8Array;
  /** Trust anchors (the root), DER. */
  readonly trusted: readonly Uint8Array[];
  /** Other CA certificates that may complete the path, DER. */
  readonly intermediates: readonly Uint8Array[];
  /** CRLs (DER) of the CAs; those not yet valid at `at` are dropped before validation. */
  readonly crls: readonly Uint8Array[];
  readonly at: Date;
}

export interface PathValidationResult {
  readonly ok: boolean;
  /** pkijs' result message ('' when ok). */
  readonly message: string;
  /** Subjects of the validated path, target first (when ok). */
  readonly path: readonly string[];
}

const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

function subjectText(c: pkijs.Certificate): string {
  const cn = c.subject.typesAndValues.find((t) => t.type === '2.5.4.3');
  return cn ? String(cn.value.valueBlock.value) : c.subject.typesAndValues.map((t) => String(t.value.valueBlock.value)).join(', ');
}

export async function validatePath(input: PathValidationInput): Promise<PathValidationResult> {
  let target: pkijs.Certificate;
  try {
    target = pkijs.Certificate.fromBER(ab(input.target));
  } catch (e) {
    return { ok: false, message: `not a certificate: ${(e as Error).message}`, path: [] };
  }
  // pkijs checks nextUpdate against the date but not thisUpdate; OpenSSL refuses a CRL that is
  // "not yet valid", so such a CRL is left out here and the check fails as "no revocation values".
  const crls = input.crls
    .map((d) => pkijs.CertificateRevocationList.fromBER(ab(d)))
    .filter((c) => c.thisUpdate.value.getTime() <= input.at.getTime());
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: input.trusted.map((d) => pkijs.Certificate.fromBER(ab(d))),
    certs: [...input.intermediates.map((d) => pkijs.Certificate.fromBER(ab(d))), target],
    crls,
    checkDate: input.at,
  });
  try {
    const r = await engine.verify({ passedWhenNotRevValues: false });
    if (!r.result) return { ok: false, message: r.resultMessage || `path validation failed (code ${r.resultCode})`, path: [] };
    // certificatePath ends with the anchor twice when the anchor is its own target (a root).
    const path = (r.certificatePath ?? []).map(subjectText).filter((s, i, a) => i === 0 || s !== a[i - 1]);
    return { ok: true, message: '', path };
  } catch (e) {
    const msg = e instanceof Error ? e.message : typeof e === 'object' && e && 'resultMessage' in e ? String((e as { resultMessage: unknown }).resultMessage) : String(e);
    return { ok: false, message: msg, path: [] };
  }
}
