/** npm packages for stdio MCP servers, verified by integrity and npm provenance before they are unpacked. */
export { type PackageCheckVerdict, packageChecker } from "./checker.js";
export {
  isPackageStoreError,
  PACKAGE_ERROR_CODES,
  type PackageErrorCode,
  PackageStoreError,
} from "./errors.js";
export { isLoopbackHost } from "./http.js";
export type { VerifiedProvenance } from "./provenance.js";
export { checkSpec, escapedName, integrityHex, type PackageSpec, packagePurl } from "./spec.js";
export {
  DEFAULT_LIMITS,
  DEFAULT_REGISTRY,
  type InstalledPackage,
  PackageStore,
  type PackageStoreOptions,
  packageDir,
  type StoreLimits,
} from "./store.js";
export { removeTree } from "./unpack.js";
