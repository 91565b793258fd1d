export type { AgentMcp, McpToolView } from "./agent-api/mcp-routes.js";
export { type AgentApi, type AgentApiOptions, startAgentApi } from "./agent-api/server.js";
export {
  checkBindAddress,
  confirmBoundAddress,
  defaultListen,
  formatHostPort,
  isLocalControlHost,
  type ListenAddress,
  parseListen,
} from "./api/bind.js";
export { statusForErrorCode } from "./api/error-status.js";
export { type SecurityEvent, startApiServer } from "./api/http-server.js";
export { addAgentPrincipal, ensurePrincipals, PrincipalStore } from "./api/principals.js";
export { gatewayRoutes } from "./api/routes.js";
export type { ApiHandler, ApiRequest, ApiResponse } from "./api/types.js";
export { CHANGE_STATES, type Change, type ChangeState, changeDigest } from "./changes/change.js";
export type { AgentMessage } from "./changes/fold.js";
export {
  CHANGE_KINDS,
  type ChangeKind,
  DEFAULT_GRANTS,
  type McpServerApproval,
  PERMISSION_GRANTS,
  type PermissionGrant,
} from "./changes/kinds.js";
export { COMPILED_IN_TOOLS } from "./changes/tools.js";
export type { ModelProviders, PackageChecker, PackageRequest, PackageVerdict } from "./changes/verifiers.js";
export { API_FILE, type ControlPlane, type ControlPlaneOptions, startControlPlane } from "./control-plane.js";
export * from "./errors.js";
export {
  type ApplyEffects,
  DEFAULT_MODEL_PROVIDERS,
  Gateway,
  type GatewayOptions,
  type SubmitResult,
} from "./gateway.js";
export type { JsonObject, JsonValue } from "./json.js";
export {
  type Checkpoint,
  EventLog,
  LOCK_FILE,
  type LogRecord,
  type LogVerification,
  lockHeld,
  sealRecord,
  verifyEventLog,
} from "./log/index.js";
export type { Principal, Role } from "./principal.js";
export {
  type AgentPackage,
  type AgentRecord,
  agentNamed,
  type ModelApproval,
  type Registry,
} from "./registry.js";
export type { AgentSkillView, SkillNote } from "./skills/views.js";
export { verifyGatewayLog } from "./verify-gateway-log.js";
