/** Sigstore bundles: signatures, certificates, identities, trusted roots (sigstore-js underneath). */
export {
  type Artifact,
  artifactFromBytes,
  artifactFromDigest,
  looksLikeDigest,
} from "./sigstore/artifact.js";
export {
  type BundleFormat,
  MAX_BUNDLE_BYTES,
  type ParsedBundle,
  parseBundleDocument,
} from "./sigstore/bundle-document.js";
export { foreignIssuer, foreignIssuerAdvice, rootForBundle } from "./sigstore/foreign-issuer.js";
export { type FulcioExtensions, readFulcioExtensions } from "./sigstore/fulcio-extensions.js";
export {
  type CertificateIdentityPolicy,
  describeMatcher,
  exactly,
  matches,
  matchingRegexp,
  type StringMatcher,
} from "./sigstore/identity-policy.js";
export {
  type ArtifactDigests,
  IN_TOTO_PAYLOAD_TYPE,
  type InTotoStatement,
  type InTotoSubject,
  parseInTotoStatement,
  SUBJECT_DIGEST_ALGORITHMS,
  type SubjectDigestAlgorithm,
  subjectAlgorithms,
  subjectMatches,
  subjectsMatching,
} from "./sigstore/in-toto.js";
export { loadDigestOnlyVerifier } from "./sigstore/prehashed.js";
export type { UnverifiedTimestamp } from "./sigstore/timestamps.js";
export {
  describeTrustedRoot,
  EMBEDDED_ROOT_NAME,
  type LoadedTrustedRoot,
  logRequirements,
  PUBLIC_GOOD_TUF_URL,
  parseTrustedRoot,
  parseTrustedRoots,
  publicGoodTrustedRoot,
  type TrustedRootDescription,
  trustedRootLine,
} from "./sigstore/trusted-root.js";
export {
  type SignatureVerification,
  type SignerPolicy,
  type VerifiedLogEntry,
  type VerifiedSigner,
  type VerifySignatureOptions,
  verifySignature,
} from "./sigstore/verify-signature.js";
