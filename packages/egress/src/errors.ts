/**
 * Every refusal the broker answers, and every failure it throws, carries a stable code. Messages may
 * be reworded, codes may not: the agent runtime and the audit log key on them.
 */
export const EGRESS_ERROR_CODES = [
  // The request itself: its target, method or headers.
  "IC_EGRESS_BAD_REQUEST",
  "IC_EGRESS_METHOD_REFUSED",
  "IC_EGRESS_SCHEME_REFUSED",
  "IC_EGRESS_HOST_HEADER",
  // Where it goes.
  "IC_EGRESS_NOT_ALLOWED",
  "IC_EGRESS_PRIVATE_ADDRESS",
  "IC_EGRESS_REDIRECT_REFUSED",
  // Limits.
  "IC_EGRESS_BODY_TOO_LARGE",
  "IC_EGRESS_RESPONSE_TOO_LARGE",
  "IC_EGRESS_TIMEOUT",
  "IC_EGRESS_TOO_MANY_REQUESTS",
  // The upstream.
  "IC_EGRESS_UPSTREAM_TLS",
  "IC_EGRESS_UPSTREAM",
  "IC_EGRESS_DNS",
  // The broker itself.
  "IC_EGRESS_UNAVAILABLE",
  "IC_EGRESS_OPTIONS_INVALID",
  "IC_EGRESS_LISTEN_FAILED",
] as const;

export type EgressErrorCode = (typeof EGRESS_ERROR_CODES)[number];

export class EgressError extends Error {
  readonly code: EgressErrorCode;

  constructor(code: EgressErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "EgressError";
    this.code = code;
  }
}

export function isEgressError(value: unknown): value is EgressError {
  return value instanceof EgressError;
}
