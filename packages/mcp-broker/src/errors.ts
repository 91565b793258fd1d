/**
 * Every refusal and failure of the broker carries a stable code; messages may be reworded, codes may
 * not: the agent runtime and the audit log key on them.
 */
export const MCP_ERROR_CODES = [
  // What the agent asked for.
  "IC_MCP_UNKNOWN_TOOL",
  "IC_MCP_BAD_ARGUMENTS",
  // What the server offers, against what was approved.
  "IC_MCP_TOOL_NOT_OFFERED",
  "IC_MCP_DIGEST_MISMATCH",
  "IC_MCP_SCHEMA_UNSUPPORTED",
  // Reaching and hearing the server.
  "IC_MCP_EGRESS_REFUSED",
  "IC_MCP_SERVER_UNAVAILABLE",
  "IC_MCP_TIMEOUT",
  "IC_MCP_RESPONSE_TOO_LARGE",
  "IC_MCP_PROTOCOL",
  "IC_MCP_PACKAGE_INVALID",
  "IC_MCP_NETWORK_UNAVAILABLE",
  // The broker itself.
  "IC_MCP_OPTIONS_INVALID",
  "IC_MCP_AUDIT_FAILED",
] as const;

export type McpErrorCode = (typeof MCP_ERROR_CODES)[number];

export class McpBrokerError extends Error {
  readonly code: McpErrorCode;

  constructor(code: McpErrorCode, message: string, options: { readonly cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "McpBrokerError";
    this.code = code;
  }
}

export function isMcpBrokerError(value: unknown): value is McpBrokerError {
  return value instanceof McpBrokerError;
}
