export { type BundleRuntimeOptions, bundleRuntime, bundleRuntimeSource } from "./bundle-runtime.js";
export { type BwrapArgsOptions, bwrapArgs, HOST_ROOT_DIRS, SANDBOX_HOSTNAME } from "./bwrap-args.js";
export { buildProbe, PROBE_FILE, probeEntry } from "./containment/build-probe.js";
export {
  type ContainmentOptions,
  type ContainmentReport,
  runContainmentSelftest,
  SELFTEST_LIMITS,
} from "./containment/harness.js";
export type { CgroupStatus, LimitStatus, LimitsReport } from "./containment/host-info.js";
export { limitsReport } from "./containment/host-info.js";
export {
  INVARIANTS,
  type InvariantDefinition,
  type Outcome,
  RUNS,
  type RunName,
} from "./containment/invariants.js";
export { type EgressBrokerHook, placeholderBroker } from "./containment/placeholder-broker.js";
export { type ModelProxyHook, placeholderModelProxy } from "./containment/placeholder-model-proxy.js";
export {
  CONTAINMENT_SCHEMA,
  type InvariantResult,
  judge,
  type Observed,
  type Verdict,
  verdictOf,
} from "./containment/report.js";
export { type ProbeRun, parseProbeOutput } from "./containment/run-probe.js";
export * from "./errors.js";
export { type LaunchOptions, launchSandbox } from "./launch.js";
export { hostLibraries, parseLdd } from "./ldd.js";
export { LIMIT_MECHANISMS, prlimitArgs } from "./limits.js";
export { type McpServerSandbox, mcpServerSpec } from "./mcp-server-spec.js";
export {
  checkMountSource,
  checkMounts,
  checkMountTarget,
  MAX_MOUNTS,
  MOUNTS_PARENT,
  type OpenedMounts,
  openMountSources,
  type SandboxMount,
} from "./mounts.js";
export { maxOldSpaceMiB, permissionFlag, runtimeFlags } from "./node-flags.js";
export { checkSandboxNode, runningAsExecutable } from "./runtime-node.js";
export { SECCOMP_DENIED_SYSCALLS, type SeccompArch, seccompArch, seccompFilter } from "./seccomp.js";
export {
  INSIDE,
  type SandboxLimits,
  type SandboxSpec,
  validateSpec,
  WEAKENINGS,
  type Weakening,
  WORKSPACE_MODES,
  type WorkspaceMode,
} from "./spec.js";
export { type SandboxSupport, sandboxSupport } from "./support.js";
