/** Whole releases: the release configuration, asset names, and the three checks of DESIGN §3 together. */
export { readNamed } from "./files/read-named.js";
export * from "./release/config.js";
export {
  hashArtifacts,
  listedNames,
  type ReleaseFiles,
  readReleaseFiles,
  toReleaseArtifacts,
} from "./release/release-files.js";
export { checkReleaseSigner, type ReleaseSigner } from "./release/release-signer.js";
export {
  type ArtifactReport,
  CHECKSUMS_ONLY_CAVEAT,
  type CheckName,
  type ReleaseArtifact,
  type ReleaseCheck,
  type ReleaseInputs,
  type ReleasePolicy,
  type ReleaseVerification,
  releasePolicy,
  verifyRelease,
} from "./release/verify-release.js";
