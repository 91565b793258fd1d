/**
 * Every failure the sandbox package reports carries a stable code; messages may be reworded, codes
 * may not. A breach found by the self-test is not an error: it is a verdict in the report.
 */
export const SANDBOX_ERROR_CODES = [
  "IC_SANDBOX_INVALID_SPEC",
  "IC_SANDBOX_BWRAP_MISSING",
  "IC_SANDBOX_PRLIMIT_MISSING",
  "IC_SANDBOX_LDD_FAILED",
  "IC_SANDBOX_BUNDLE_FAILED",
  "IC_SANDBOX_UNSUPPORTED",
  "IC_SANDBOX_SELFTEST_SETUP",
  "IC_SANDBOX_MOUNT_TARGET",
  "IC_SANDBOX_MOUNT_SOURCE",
  "IC_SANDBOX_NEEDS_NODE",
] as const;

export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;

  constructor(code: SandboxErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "SandboxError";
    this.code = code;
  }
}

export function isSandboxError(value: unknown): value is SandboxError {
  return value instanceof SandboxError;
}
