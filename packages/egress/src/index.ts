export { startEgressBroker } from "./broker.js";
export {
  checkEgressTarget,
  checkRedirect,
  checkResolvedAddresses,
  type EgressCheck,
  type EgressRequestHead,
  type EgressTarget,
} from "./check.js";
export * from "./errors.js";
export { addressClass, canonicalIp } from "./ip.js";
export { DEFAULT_LIMITS } from "./limits.js";
export { decisionOf, EGRESS_REASONS, type EgressReason, type RefusalReason } from "./reasons.js";
export { listenOnSocketFile, type SocketFile } from "./socket-file.js";
export type {
  EgressAuditEvent,
  EgressBroker,
  EgressBrokerOptions,
  EgressLimits,
  EgressRule,
  ResolvedAddress,
} from "./types.js";
export {
  requestUpstream,
  type UpstreamExchange,
  type UpstreamOutcome,
  type UpstreamRequest,
} from "./upstream.js";
