import { McpBrokerError } from "./errors.js";
import type { McpLimits } from "./types.js";

export type Limits = Required<McpLimits>;

export const DEFAULT_MCP_LIMITS: Limits = {
  connectTimeoutMs: 15_000,
  listTimeoutMs: 10_000,
  callTimeoutMs: 20_000,
  messageBytes: 1024 * 1024,
  outputBytes: 64 * 1024,
  toolFaceBytes: 64 * 1024,
  idleMs: 10 * 60 * 1000,
  tools: 512,
  pages: 16,
  refusalsPerWindow: 32,
  refusalWindowMs: 60_000,
};

export function resolveLimits(limits: McpLimits = {}): Limits {
  const resolved = { ...DEFAULT_MCP_LIMITS };
  for (const key of Object.keys(DEFAULT_MCP_LIMITS) as (keyof Limits)[]) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1)
      throw new McpBrokerError(
        "IC_MCP_OPTIONS_INVALID",
        `expected limits.${key} to be a positive integer, found ${String(value)}`,
      );
    resolved[key] = value;
  }
  return resolved;
}
