/**
 * Every failure the verify package reports carries a stable code. The CLI maps codes to exit
 * codes in one place; messages may be reworded, codes may not.
 */
export const VERIFY_ERROR_CODES = [
  // The SHA256SUMS document itself.
  "IC_CHECKSUMS_EMPTY",
  "IC_CHECKSUMS_TOO_LARGE",
  "IC_CHECKSUMS_BAD_ENCODING",
  "IC_CHECKSUMS_MALFORMED_LINE",
  "IC_CHECKSUMS_UNSUPPORTED_ALGORITHM",
  "IC_CHECKSUMS_DIGEST_LENGTH",
  "IC_CHECKSUMS_BAD_ESCAPE",
  "IC_CHECKSUMS_DUPLICATE_NAME",
  // A name, in SHA256SUMS or given to `create`.
  "IC_CHECKSUMS_NAME_EMPTY",
  "IC_CHECKSUMS_NAME_TOO_LONG",
  "IC_CHECKSUMS_NAME_CONTROL_CHAR",
  "IC_CHECKSUMS_NAME_BACKSLASH",
  "IC_CHECKSUMS_NAME_ABSOLUTE",
  "IC_CHECKSUMS_NAME_TRAVERSAL",
  "IC_CHECKSUMS_NAME_NOT_CANONICAL",
  // Hashing a file.
  "IC_FILE_MISSING",
  "IC_FILE_NOT_REGULAR",
  "IC_FILE_CHANGED",
  "IC_FILE_READ",
  "IC_FILE_TOO_LARGE",
  // A Sigstore bundle as a document, before any cryptography.
  "IC_BUNDLE_TOO_LARGE",
  "IC_BUNDLE_MALFORMED_JSON",
  "IC_BUNDLE_DETACHED_SIGNATURE",
  "IC_BUNDLE_UNKNOWN_MEDIA_TYPE",
  "IC_BUNDLE_INVALID",
  // A trusted root as a document.
  "IC_TRUSTED_ROOT_INVALID",
  "IC_TRUSTED_ROOT_MISSING_VALIDITY",
  // The artifact given for a signature.
  "IC_ARTIFACT_DIGEST_INVALID",
  "IC_ARTIFACT_DIGEST_UNSUPPORTED",
  "IC_ARTIFACT_REQUIRED",
  // Attestations: the container, and each statement in it.
  "IC_ATTESTATION_EMPTY",
  "IC_ATTESTATION_NOT_DSSE",
  "IC_ATTESTATION_NOT_IN_TOTO",
  "IC_ATTESTATION_STATEMENT_INVALID",
  "IC_ATTESTATION_SUBJECT_MISMATCH",
  "IC_ATTESTATION_PREDICATE_TYPE",
  "IC_ATTESTATION_PREDICATE_MISMATCH",
  // A release: SHA256SUMS, its signature and the attestations, taken together.
  "IC_RELEASE_NOT_LISTED",
  "IC_RELEASE_CHECKSUM_MISMATCH",
  "IC_RELEASE_PROVENANCE",
  "IC_RELEASE_VERSION_MISMATCH",
  "IC_RELEASE_TAG_MISMATCH",
  // Verification that ran and said no.
  "IC_SIGNATURE_INVALID",
  "IC_SIGNATURE_CERTIFICATE",
  "IC_SIGNATURE_PUBLIC_KEY",
  "IC_SIGNATURE_TLOG",
  "IC_SIGNATURE_TLOG_BODY",
  "IC_SIGNATURE_TIMESTAMP",
  "IC_SIGNATURE_ARTIFACT_MISMATCH",
  "IC_SIGNATURE_FAILED",
  // A signature that verified, from a signer the policy does not accept.
  "IC_POLICY_INVALID",
  "IC_POLICY_SIGNER_KIND",
  "IC_POLICY_IDENTITY_MISMATCH",
  "IC_POLICY_ISSUER_MISMATCH",
  "IC_POLICY_OWNER_MISMATCH",
  "IC_POLICY_REPOSITORY_MISMATCH",
  "IC_POLICY_SIGNER_MISMATCH",
  "IC_POLICY_SIGNER_DIGEST_MISMATCH",
  "IC_POLICY_SELF_HOSTED_RUNNER",
  "IC_POLICY_SOURCE_REF_MISMATCH",
  "IC_POLICY_SOURCE_DIGEST_MISMATCH",
  // Skills: the archive, its SKILL.md, and what a change or command line says it is.
  "IC_SKILL_ARCHIVE_INVALID",
  "IC_SKILL_ENTRY_REFUSED",
  "IC_SKILL_TOO_LARGE",
  "IC_SKILL_MANIFEST_INVALID",
  "IC_SKILL_NAME_INVALID",
  "IC_SKILL_NAME_MISMATCH",
  "IC_SKILL_VERSION_MISMATCH",
  "IC_SKILL_DIGEST_MISMATCH",
  "IC_SKILL_UNSIGNED",
] as const;

export type VerifyErrorCode = (typeof VERIFY_ERROR_CODES)[number];

export interface VerifyErrorOptions {
  /** 1-based line in the document that caused the error, when there is one. */
  readonly line?: number;
  readonly cause?: unknown;
}

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  readonly line: number | undefined;

  constructor(code: VerifyErrorCode, message: string, options: VerifyErrorOptions = {}) {
    super(options.line === undefined ? message : `line ${options.line}: ${message}`, {
      cause: options.cause,
    });
    this.name = "VerifyError";
    this.code = code;
    this.line = options.line;
  }
}

export function isVerifyError(value: unknown): value is VerifyError {
  return value instanceof VerifyError;
}
