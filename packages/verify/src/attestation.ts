/** Build-provenance attestations: containers, gh-style policies, per-statement verification, inspection. */

export { type AttestationEntry, parseAttestationFile } from "./attestation/container.js";
export { type InspectedBundle, inspectAttestations } from "./attestation/inspect.js";
export {
  type AttestationPolicy,
  type AttestationPolicyOptions,
  buildAttestationPolicy,
  checkAttestationCertificate,
  type SignerRule,
  SLSA_PROVENANCE_V1,
  signerMatches,
} from "./attestation/policy.js";
export {
  checkProvenanceAgainstCertificate,
  GITHUB_WORKFLOW_BUILD_TYPES,
  type ProvenanceCheck,
} from "./attestation/provenance.js";
export {
  type AttestationVerification,
  describeDigests,
  type StatementReport,
  type StatementSigner,
  type StatementVerdict,
  type VerifyAttestationsOptions,
  verifyAttestations,
} from "./attestation/verify-attestations.js";
export type { ArtifactDigests } from "./sigstore/in-toto.js";
