import type { EgressErrorCode } from "./errors.js";

/**
 * Why the broker refused or ended an exchange: the `reason` of its audit event. Stable, like error
 * codes. `denied` means the broker stopped the exchange (a rule or a limit); the rest are `allowed`.
 */
export const REFUSALS = {
  connect_refused: { status: 403, code: "IC_EGRESS_METHOD_REFUSED", denied: true },
  method_not_allowed: { status: 405, code: "IC_EGRESS_METHOD_REFUSED", denied: true },
  malformed_request: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  not_absolute_form: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  bad_target: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  empty_host: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  bad_host: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  userinfo: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  fragment: { status: 400, code: "IC_EGRESS_BAD_REQUEST", denied: true },
  scheme_not_https: { status: 403, code: "IC_EGRESS_SCHEME_REFUSED", denied: true },
  host_header_mismatch: { status: 400, code: "IC_EGRESS_HOST_HEADER", denied: true },
  trailing_dot: { status: 403, code: "IC_EGRESS_NOT_ALLOWED", denied: true },
  ip_literal_not_canonical: { status: 403, code: "IC_EGRESS_NOT_ALLOWED", denied: true },
  ip_literal_not_approved: { status: 403, code: "IC_EGRESS_NOT_ALLOWED", denied: true },
  not_on_allowlist: { status: 403, code: "IC_EGRESS_NOT_ALLOWED", denied: true },
  resolves_to_private_address: { status: 403, code: "IC_EGRESS_PRIVATE_ADDRESS", denied: true },
  redirect_not_allowed: { status: 403, code: "IC_EGRESS_REDIRECT_REFUSED", denied: true },
  body_too_large: { status: 413, code: "IC_EGRESS_BODY_TOO_LARGE", denied: true },
  response_too_large: { status: 502, code: "IC_EGRESS_RESPONSE_TOO_LARGE", denied: true },
  timeout: { status: 504, code: "IC_EGRESS_TIMEOUT", denied: true },
  too_many_concurrent: { status: 429, code: "IC_EGRESS_TOO_MANY_REQUESTS", denied: true },
  upstream_tls_error: { status: 502, code: "IC_EGRESS_UPSTREAM_TLS", denied: true },
  broker_unavailable: { status: 503, code: "IC_EGRESS_UNAVAILABLE", denied: true },
  internal_error: { status: 500, code: "IC_EGRESS_UNAVAILABLE", denied: true },
  // Not the broker's doing: the upstream or its DNS failed.
  upstream_error: { status: 502, code: "IC_EGRESS_UPSTREAM", denied: false },
  dns_error: { status: 502, code: "IC_EGRESS_DNS", denied: false },
} as const satisfies Record<string, { status: number; code: EgressErrorCode; denied: boolean }>;

export type RefusalReason = keyof typeof REFUSALS;

/** `ok`: the upstream's answer went through whole; `agent_closed`: the agent hung up first. */
export type EgressReason = RefusalReason | "ok" | "agent_closed";

export const EGRESS_REASONS: readonly EgressReason[] = [
  "ok",
  "agent_closed",
  ...(Object.keys(REFUSALS) as RefusalReason[]),
];

export function decisionOf(reason: EgressReason): "allowed" | "denied" {
  return reason === "ok" || reason === "agent_closed" || !REFUSALS[reason].denied ? "allowed" : "denied";
}
