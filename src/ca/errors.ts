import { CardcaError } from '../common/cardca-error.js';

/**
 * Errors raised by the CA engine (`src/ca`). Every class carries a stable `code` (the prefix
 * selects the exit code in src/cli/exit-codes.ts) and a hint telling the operator what to do.
 * This file is shared by all of src/ca: add classes, never rename or remove them.
 */
type ErrorOptions = { hint?: string; cause?: unknown; details?: Record<string, unknown> };

/** A profile or hierarchy file is invalid. Code `PROFILE_INVALID` (or another `PROFILE_…`). */
export class ProfileError extends CardcaError {
  /** File the problem is in, when known. */
  readonly file: string | undefined;
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** Dotted field path inside the document (e.g. `subject.required[0].type`). */
  readonly field: string | undefined;

  constructor(
    code: string,
    message: string,
    options: ErrorOptions & { file?: string; line?: number; field?: string } = {},
  ) {
    super(code, message, {
      hint: options.hint ?? 'Fix the profile file named in the message and run the command again.',
      cause: options.cause,
      details: { ...options.details, file: options.file, line: options.line, field: options.field },
    });
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }
}

/** A CSR (or the key in it) is refused. Codes `CSR_…` or `KEY_…`. */
export class CsrError extends CardcaError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Requested certificate content is not allowed by the profile. Codes `POLICY_…`. */
export class PolicyError extends CardcaError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}

/** One failed lint rule. */
export interface LintFinding {
  /** zlint-style rule name, e.g. `e_ca_key_usage_not_critical`. */
  readonly rule: string;
  readonly message: string;
}

/** Pre- or post-signing lint found problems. Code `LINT_FAILED`. */
export class LintError extends CardcaError {
  readonly findings: readonly LintFinding[];

  constructor(findings: readonly LintFinding[], what = 'certificate', options: ErrorOptions = {}) {
    super(
      'LINT_FAILED',
      `${what} failed lint: ${findings.map((f) => `${f.rule} (${f.message})`).join('; ')}`,
      {
        hint:
          options.hint ??
          'Nothing was signed. The profile or request produces content that breaks RFC 5280 rules; fix the profile.',
        cause: options.cause,
        details: { ...options.details, rules: findings.map((f) => f.rule) },
      },
    );
    this.findings = findings;
  }

  get rules(): string[] {
    return this.findings.map((f) => f.rule);
  }
}

/** Any other CA-engine failure (bad issued certificate, chain problems, …). Codes `CA_…`. */
export class CaError extends CardcaError {
  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}
