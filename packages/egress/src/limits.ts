import { EgressError } from "./errors.js";
import type { EgressLimits } from "./types.js";

export type Limits = Required<EgressLimits>;

export const DEFAULT_LIMITS: Limits = {
  requestBodyBytes: 1024 * 1024,
  responseBodyBytes: 10 * 1024 * 1024,
  timeoutMs: 30_000,
  concurrent: 8,
};

export function resolveLimits(limits: EgressLimits = {}): Limits {
  const resolved: Limits = {
    requestBodyBytes: limits.requestBodyBytes ?? DEFAULT_LIMITS.requestBodyBytes,
    responseBodyBytes: limits.responseBodyBytes ?? DEFAULT_LIMITS.responseBodyBytes,
    timeoutMs: limits.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
    concurrent: limits.concurrent ?? DEFAULT_LIMITS.concurrent,
  };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new EgressError(
        "IC_EGRESS_OPTIONS_INVALID",
        `expected limits.${name} to be a positive integer, found ${value}`,
      );
    }
  }
  return resolved;
}
