export { startMcpBroker } from "./broker.js";
export { argumentsDigest, jcs, type ToolFace, toolDigest } from "./canonical.js";
export * from "./errors.js";
export { egressFetch } from "./http-fetch.js";
export { DEFAULT_MCP_LIMITS } from "./limits.js";
export { fullToolName } from "./names.js";
export { schemaProblem, validationProblem } from "./schema.js";
export {
  launchStdioServer,
  resolveBin,
  STDIO_SANDBOX_LIMITS,
  type StdioServerLaunch,
} from "./stdio-launch.js";
export type * from "./types.js";
