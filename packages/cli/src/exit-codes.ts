import { type GatewayErrorCode, isGatewayError } from "@ironclaw/gateway/errors";
import { isModelError, type ModelErrorCode } from "@ironclaw/model-proxy/errors";
import { isSandboxError, type SandboxErrorCode } from "@ironclaw/sandbox/errors";
import { isVerifyError, type VerifyErrorCode } from "@ironclaw/verify/errors";
import { CliError, type CliErrorCode } from "./errors.js";

/** DESIGN §4: the same exit codes for every command. */
export const ExitCode = {
  ok: 0,
  /** A verification or a policy said no. */
  rejected: 1,
  /** Usage error or malformed input. */
  usage: 2,
  /** Environment failure: I/O, network, a missing tool. */
  environment: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode = VerifyErrorCode | GatewayErrorCode | ModelErrorCode | SandboxErrorCode | CliErrorCode;

/** The one place an error code becomes an exit code. A new code fails to compile until it is listed. */
const EXIT_CODE_BY_ERROR: Readonly<Record<ErrorCode, ExitCode>> = {
  IC_CHECKSUMS_EMPTY: ExitCode.usage,
  IC_CHECKSUMS_TOO_LARGE: ExitCode.usage,
  IC_CHECKSUMS_BAD_ENCODING: ExitCode.usage,
  IC_CHECKSUMS_MALFORMED_LINE: ExitCode.usage,
  IC_CHECKSUMS_UNSUPPORTED_ALGORITHM: ExitCode.usage,
  IC_CHECKSUMS_DIGEST_LENGTH: ExitCode.usage,
  IC_CHECKSUMS_BAD_ESCAPE: ExitCode.usage,
  IC_CHECKSUMS_DUPLICATE_NAME: ExitCode.usage,
  IC_CHECKSUMS_NAME_EMPTY: ExitCode.usage,
  IC_CHECKSUMS_NAME_TOO_LONG: ExitCode.usage,
  IC_CHECKSUMS_NAME_CONTROL_CHAR: ExitCode.usage,
  IC_CHECKSUMS_NAME_BACKSLASH: ExitCode.usage,
  IC_CHECKSUMS_NAME_ABSOLUTE: ExitCode.usage,
  IC_CHECKSUMS_NAME_TRAVERSAL: ExitCode.usage,
  IC_CHECKSUMS_NAME_NOT_CANONICAL: ExitCode.usage,
  IC_FILE_MISSING: ExitCode.environment,
  IC_FILE_NOT_REGULAR: ExitCode.usage,
  IC_FILE_CHANGED: ExitCode.rejected,
  IC_FILE_READ: ExitCode.environment,
  IC_FILE_TOO_LARGE: ExitCode.usage,
  IC_BUNDLE_TOO_LARGE: ExitCode.usage,
  IC_BUNDLE_MALFORMED_JSON: ExitCode.usage,
  IC_BUNDLE_DETACHED_SIGNATURE: ExitCode.usage,
  IC_BUNDLE_UNKNOWN_MEDIA_TYPE: ExitCode.usage,
  IC_BUNDLE_INVALID: ExitCode.usage,
  IC_TRUSTED_ROOT_INVALID: ExitCode.usage,
  IC_TRUSTED_ROOT_MISSING_VALIDITY: ExitCode.usage,
  IC_ARTIFACT_DIGEST_INVALID: ExitCode.usage,
  IC_ARTIFACT_DIGEST_UNSUPPORTED: ExitCode.usage,
  IC_ARTIFACT_REQUIRED: ExitCode.usage,
  IC_ATTESTATION_EMPTY: ExitCode.usage,
  IC_ATTESTATION_NOT_DSSE: ExitCode.rejected,
  IC_ATTESTATION_NOT_IN_TOTO: ExitCode.rejected,
  IC_ATTESTATION_STATEMENT_INVALID: ExitCode.rejected,
  IC_ATTESTATION_SUBJECT_MISMATCH: ExitCode.rejected,
  IC_ATTESTATION_PREDICATE_TYPE: ExitCode.rejected,
  IC_ATTESTATION_PREDICATE_MISMATCH: ExitCode.rejected,
  IC_RELEASE_NOT_LISTED: ExitCode.rejected,
  IC_RELEASE_CHECKSUM_MISMATCH: ExitCode.rejected,
  IC_RELEASE_PROVENANCE: ExitCode.rejected,
  IC_RELEASE_VERSION_MISMATCH: ExitCode.rejected,
  IC_RELEASE_TAG_MISMATCH: ExitCode.rejected,
  IC_SIGNATURE_INVALID: ExitCode.rejected,
  IC_SIGNATURE_CERTIFICATE: ExitCode.rejected,
  IC_SIGNATURE_PUBLIC_KEY: ExitCode.rejected,
  IC_SIGNATURE_TLOG: ExitCode.rejected,
  IC_SIGNATURE_TLOG_BODY: ExitCode.rejected,
  IC_SIGNATURE_TIMESTAMP: ExitCode.rejected,
  IC_SIGNATURE_ARTIFACT_MISMATCH: ExitCode.rejected,
  IC_SIGNATURE_FAILED: ExitCode.rejected,
  IC_POLICY_INVALID: ExitCode.usage,
  IC_POLICY_SIGNER_KIND: ExitCode.rejected,
  IC_POLICY_IDENTITY_MISMATCH: ExitCode.rejected,
  IC_POLICY_ISSUER_MISMATCH: ExitCode.rejected,
  IC_POLICY_OWNER_MISMATCH: ExitCode.rejected,
  IC_POLICY_REPOSITORY_MISMATCH: ExitCode.rejected,
  IC_POLICY_SIGNER_MISMATCH: ExitCode.rejected,
  IC_POLICY_SIGNER_DIGEST_MISMATCH: ExitCode.rejected,
  IC_SKILL_ARCHIVE_INVALID: ExitCode.rejected,
  IC_SKILL_ENTRY_REFUSED: ExitCode.rejected,
  IC_SKILL_TOO_LARGE: ExitCode.rejected,
  IC_SKILL_MANIFEST_INVALID: ExitCode.rejected,
  IC_SKILL_NAME_INVALID: ExitCode.rejected,
  IC_SKILL_NAME_MISMATCH: ExitCode.rejected,
  IC_SKILL_VERSION_MISMATCH: ExitCode.rejected,
  IC_SKILL_DIGEST_MISMATCH: ExitCode.rejected,
  IC_SKILL_UNSIGNED: ExitCode.rejected,
  IC_POLICY_SELF_HOSTED_RUNNER: ExitCode.rejected,
  IC_POLICY_SOURCE_REF_MISMATCH: ExitCode.rejected,
  IC_POLICY_SOURCE_DIGEST_MISMATCH: ExitCode.rejected,
  IC_CHANGE_INVALID: ExitCode.usage,
  IC_CHANGE_REJECTED_BY_VERIFIER: ExitCode.rejected,
  IC_CHANGE_NOT_FOUND: ExitCode.usage,
  IC_CHANGE_CONFLICT: ExitCode.rejected,
  IC_CHANGE_DIGEST_MISMATCH: ExitCode.rejected,
  IC_CHANGE_FORBIDDEN: ExitCode.rejected,
  IC_CHANGE_APPLY_FAILED: ExitCode.environment,
  IC_AUDIT_LOCKED: ExitCode.environment,
  IC_AUDIT_CORRUPT: ExitCode.rejected,
  IC_AUDIT_TORN: ExitCode.rejected,
  IC_AUDIT_TRUNCATED: ExitCode.rejected,
  IC_AUDIT_CHECKPOINT: ExitCode.rejected,
  IC_AUDIT_WRITE: ExitCode.environment,
  IC_AUDIT_KEY: ExitCode.environment,
  IC_AUDIT_UNSIGNED: ExitCode.rejected,
  IC_STATE_INVALID: ExitCode.environment,
  IC_API_BIND_REFUSED: ExitCode.usage,
  IC_API_ADDRESS_IN_USE: ExitCode.environment,
  IC_API_UNAUTHENTICATED: ExitCode.rejected,
  IC_API_FORBIDDEN: ExitCode.rejected,
  IC_API_RATE_LIMITED: ExitCode.environment,
  IC_API_BODY_TOO_LARGE: ExitCode.usage,
  IC_API_BAD_JSON: ExitCode.usage,
  IC_API_UNSUPPORTED_MEDIA_TYPE: ExitCode.usage,
  IC_API_NOT_FOUND: ExitCode.usage,
  IC_API_METHOD_NOT_ALLOWED: ExitCode.usage,
  IC_API_UNAVAILABLE: ExitCode.environment,
  IC_API_BAD_REQUEST: ExitCode.usage,
  IC_API_INTERNAL: ExitCode.environment,
  IC_PRINCIPAL_INVALID: ExitCode.usage,
  IC_PRINCIPAL_EXISTS: ExitCode.usage,
  IC_USAGE: ExitCode.usage,
  IC_OUTPUT_WRITE: ExitCode.environment,
  IC_INTERNAL: ExitCode.environment,
  IC_NETWORK: ExitCode.environment,
  IC_NETWORK_STATUS: ExitCode.environment,
  IC_NETWORK_REDIRECTS: ExitCode.environment,
  IC_NETWORK_INSECURE: ExitCode.usage,
  IC_NETWORK_REDIRECT_REFUSED: ExitCode.rejected,
  IC_NETWORK_TOO_LARGE: ExitCode.environment,
  IC_NETWORK_TIMEOUT: ExitCode.environment,
  IC_UPGRADE_NOT_INSTALLED: ExitCode.usage,
  IC_UPGRADE_REFUSED: ExitCode.rejected,
  IC_UPGRADE_VERIFICATION: ExitCode.rejected,
  IC_UPGRADE_NO_PREVIOUS: ExitCode.usage,
  IC_UPGRADE_BUSY: ExitCode.environment,
  IC_INSTALL_WRITE: ExitCode.environment,
  IC_MCP_REFUSED: ExitCode.rejected,
  // The model proxy: what the CLI can meet is the operator's providers file and keys at `up`.
  IC_MODEL_BAD_REQUEST: ExitCode.usage,
  IC_MODEL_NOT_FOUND: ExitCode.usage,
  IC_MODEL_METHOD_NOT_ALLOWED: ExitCode.usage,
  IC_MODEL_REQUEST_TIMEOUT: ExitCode.environment,
  IC_MODEL_REQUEST_TOO_LARGE: ExitCode.usage,
  IC_MODEL_UNSUPPORTED_MEDIA_TYPE: ExitCode.usage,
  IC_MODEL_NOT_APPROVED: ExitCode.rejected,
  IC_MODEL_PROVIDER_UNKNOWN: ExitCode.rejected,
  IC_MODEL_MODEL_NOT_ALLOWED: ExitCode.rejected,
  IC_MODEL_BUDGET_EXHAUSTED: ExitCode.rejected,
  IC_MODEL_BUSY: ExitCode.environment,
  IC_MODEL_UNAVAILABLE: ExitCode.environment,
  IC_MODEL_PROVIDER_UNREACHABLE: ExitCode.environment,
  IC_MODEL_PROVIDER_TLS: ExitCode.rejected,
  IC_MODEL_PROVIDER_TIMEOUT: ExitCode.environment,
  IC_MODEL_PROVIDER_REDIRECT: ExitCode.rejected,
  IC_MODEL_PROVIDER_AUTH: ExitCode.environment,
  IC_MODEL_PROVIDER_RATE_LIMITED: ExitCode.environment,
  IC_MODEL_PROVIDER_REJECTED: ExitCode.rejected,
  IC_MODEL_PROVIDER_ERROR: ExitCode.environment,
  IC_MODEL_PROVIDER_RESPONSE: ExitCode.rejected,
  IC_MODEL_PROVIDER_TOO_LARGE: ExitCode.rejected,
  IC_MODEL_PROVIDERS_INVALID: ExitCode.usage,
  IC_MODEL_PROVIDERS_UNREADABLE: ExitCode.environment,
  IC_MODEL_KEY_MISSING: ExitCode.usage,
  IC_MODEL_KEY_FILE_UNSAFE: ExitCode.usage,
  IC_MODEL_OPTIONS_INVALID: ExitCode.usage,
  IC_MODEL_LISTEN_FAILED: ExitCode.environment,
  // The sandbox: what the CLI meets is the host (bwrap, prlimit, ldd) or this build (no node to run).
  IC_SANDBOX_INVALID_SPEC: ExitCode.usage,
  IC_SANDBOX_BWRAP_MISSING: ExitCode.environment,
  IC_SANDBOX_PRLIMIT_MISSING: ExitCode.environment,
  IC_SANDBOX_LDD_FAILED: ExitCode.environment,
  IC_SANDBOX_BUNDLE_FAILED: ExitCode.environment,
  IC_SANDBOX_UNSUPPORTED: ExitCode.environment,
  IC_SANDBOX_SELFTEST_SETUP: ExitCode.environment,
  IC_SANDBOX_MOUNT_TARGET: ExitCode.usage,
  IC_SANDBOX_MOUNT_SOURCE: ExitCode.rejected,
  IC_SANDBOX_NEEDS_NODE: ExitCode.environment,
};

export function exitCodeForError(code: ErrorCode): ExitCode {
  return EXIT_CODE_BY_ERROR[code];
}

export interface DescribedError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly line?: number;
  /** The event-log record an audit error is about. */
  readonly record?: number;
}

/** Anything thrown becomes a coded error; an unknown exception is IC_INTERNAL with its message. */
export function describeError(error: unknown): DescribedError {
  if (isVerifyError(error)) {
    return error.line === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, line: error.line };
  }
  if (isGatewayError(error)) {
    return error.record === undefined
      ? { code: error.code, message: error.message }
      : { code: error.code, message: error.message, record: error.record };
  }
  if (isModelError(error)) return { code: error.code, message: error.message };
  if (isSandboxError(error)) return { code: error.code, message: error.message };
  if (error instanceof CliError) return { code: error.code, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: "IC_INTERNAL", message: `unexpected failure: ${message}` };
}
