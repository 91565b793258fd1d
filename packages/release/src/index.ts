export {
  type BuildOptions,
  type BuildResult,
  type BuiltExecutable,
  buildRelease,
  knownTargets,
  NODE_BUNDLE_NAME,
  NODE_TARGET,
  writeChecksums,
} from "./build.js";
export { compareTrees, type TreeDifference } from "./compare.js";
export * from "./config.js";
export { deterministicBundleOptions, ESBUILD_TSCONFIG, workspaceSources } from "./esbuild-inputs.js";
export { type LocalReleaseOptions, type LocalReleaseResult, releaseLocally } from "./local-release.js";
export { readSourceInfo, type SourceInfo } from "./source-info.js";
export { releaseSubjects } from "./subjects.js";
