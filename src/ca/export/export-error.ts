import { CardcaError } from '../../common/cardca-error.js';

/**
 * Errors raised while building export bundles. Codes (stable):
 * - `EXPORT_INPUT_INVALID`: a certificate/CRL does not parse, the chain is empty, names don't fit.
 * - `EXPORT_CHAIN_ORDER`: the chain is not issuer → … → root.
 * - `EXPORT_CRL_MISSING`: a CA level has no CRL (concentrators check every level).
 * - `EXPORT_PRIVATE_DATA`: something that looks like private key material reached an export.
 * - `EXPORT_NOT_DER`: a certificate is not in canonical DER (would change when re-encoded).
 * - `EXPORT_TEMPLATE`: a template is missing or does not render.
 */
export class ExportError extends CardcaError {}
