import type { GatewayErrorCode } from "../errors.js";

/**
 * The HTTP status for every error code, in one table. It is a full Record so that a new code does not
 * compile until someone decides its status here.
 */
const STATUS_FOR_ERROR_CODE: Readonly<Record<GatewayErrorCode, number>> = {
  IC_CHANGE_INVALID: 400,
  IC_CHANGE_REJECTED_BY_VERIFIER: 422,
  IC_CHANGE_NOT_FOUND: 404,
  IC_CHANGE_CONFLICT: 409,
  IC_CHANGE_DIGEST_MISMATCH: 409,
  IC_CHANGE_FORBIDDEN: 403,
  IC_CHANGE_APPLY_FAILED: 500,
  // The event log cannot be written or trusted: nothing may be decided until an operator looks.
  IC_AUDIT_LOCKED: 503,
  IC_AUDIT_CORRUPT: 503,
  IC_AUDIT_TORN: 503,
  IC_AUDIT_TRUNCATED: 503,
  IC_AUDIT_CHECKPOINT: 503,
  IC_AUDIT_WRITE: 503,
  IC_AUDIT_KEY: 503,
  IC_AUDIT_UNSIGNED: 503,
  IC_STATE_INVALID: 503,
  IC_API_BIND_REFUSED: 500, // Raised before listening; listed only because every code must be.
  IC_API_ADDRESS_IN_USE: 500, // The same.
  IC_API_UNAUTHENTICATED: 401,
  IC_API_FORBIDDEN: 403,
  IC_API_RATE_LIMITED: 429,
  IC_API_BODY_TOO_LARGE: 413,
  IC_API_BAD_JSON: 400,
  IC_API_UNSUPPORTED_MEDIA_TYPE: 415,
  IC_API_NOT_FOUND: 404,
  IC_API_METHOD_NOT_ALLOWED: 405,
  IC_API_UNAVAILABLE: 503,
  IC_API_BAD_REQUEST: 400,
  IC_API_INTERNAL: 500,
  IC_PRINCIPAL_INVALID: 400,
  IC_PRINCIPAL_EXISTS: 409,
};

export function statusForErrorCode(code: GatewayErrorCode): number {
  return STATUS_FOR_ERROR_CODE[code];
}
