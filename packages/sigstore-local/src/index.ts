export type { SerializedBundle } from "@sigstore/bundle";
export {
  GITHUB_ACTIONS_ISSUER,
  type GitHubWorkflowIdentityOptions,
  githubWorkflowIdentity,
  type SigningIdentity,
} from "./identity.js";
export {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_V1,
  type InTotoStatement,
  type InTotoSubject,
  inTotoStatement,
} from "./in-toto.js";
export type { LegacyCosignBundle } from "./legacy-cosign.js";
export {
  LocalSigstore,
  type LocalSigstoreOptions,
  type LocalSigstoreURLs,
  type SignDsseOptions,
} from "./local-sigstore.js";
export { type LoopbackTls, loopbackTls } from "./loopback-tls.js";
export { GITHUB_WORKFLOW_BUILD_TYPE, githubBuildProvenance, SLSA_PROVENANCE_V1 } from "./provenance.js";
export type { RekorEntryType } from "./signing.js";
export { TRUSTED_ROOT_MEDIA_TYPE } from "./trusted-root.js";
