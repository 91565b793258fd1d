/**
 * Every failure the gateway reports carries a stable code. The CLI maps codes to exit codes and the
 * API maps them to HTTP statuses, each in one place; messages may be reworded, codes may not.
 */
export const GATEWAY_ERROR_CODES = [
  // A change request.
  "IC_CHANGE_INVALID",
  "IC_CHANGE_REJECTED_BY_VERIFIER",
  "IC_CHANGE_NOT_FOUND",
  "IC_CHANGE_CONFLICT",
  "IC_CHANGE_DIGEST_MISMATCH",
  "IC_CHANGE_FORBIDDEN",
  "IC_CHANGE_APPLY_FAILED",
  // The event log and its checkpoints.
  "IC_AUDIT_LOCKED",
  "IC_AUDIT_CORRUPT",
  "IC_AUDIT_TORN",
  "IC_AUDIT_TRUNCATED",
  "IC_AUDIT_CHECKPOINT",
  "IC_AUDIT_WRITE",
  "IC_AUDIT_KEY",
  "IC_AUDIT_UNSIGNED",
  // The state directory and what the gateway keeps in it.
  "IC_STATE_INVALID",
  // The control-plane API.
  "IC_API_BIND_REFUSED",
  "IC_API_ADDRESS_IN_USE",
  "IC_API_UNAUTHENTICATED",
  "IC_API_FORBIDDEN",
  "IC_API_RATE_LIMITED",
  "IC_API_BODY_TOO_LARGE",
  "IC_API_BAD_JSON",
  "IC_API_UNSUPPORTED_MEDIA_TYPE",
  "IC_API_NOT_FOUND",
  "IC_API_METHOD_NOT_ALLOWED",
  "IC_API_UNAVAILABLE",
  "IC_API_BAD_REQUEST",
  "IC_API_INTERNAL",
  // Principals and their bearer tokens.
  "IC_PRINCIPAL_INVALID",
  "IC_PRINCIPAL_EXISTS",
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

export interface GatewayErrorOptions {
  /** The 1-based record number (`seq`) in the event log that caused the error, when there is one. */
  readonly record?: number;
  readonly cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly record: number | undefined;

  constructor(code: GatewayErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(options.record === undefined ? message : `record ${options.record}: ${message}`, {
      cause: options.cause,
    });
    this.name = "GatewayError";
    this.code = code;
    this.record = options.record;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
