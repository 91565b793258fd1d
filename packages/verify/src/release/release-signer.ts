import { signerMatches } from "../attestation/policy.js";
import { VerifyError } from "../errors.js";
import type { SignatureVerification } from "../sigstore/verify-signature.js";
import { RELEASE_TAG } from "./config.js";
import type { ReleasePolicy } from "./verify-release.js";

/** Who published a release, as its signing certificate attests it. */
export interface ReleaseSigner {
  /** The signing workflow (certificate SAN). */
  readonly workflow: string;
  readonly repository: string;
  readonly tag: string;
  readonly commit: string;
  readonly runInvocationUri?: string;
}

/**
 * The signature over SHA256SUMS must come from the release workflow of the expected repository at a
 * release tag, on a GitHub-hosted runner; the tag, ref and commit are read from the certificate, and
 * a tag the caller asked for must be the signed one (no mixing of releases).
 */
export function checkReleaseSigner(result: SignatureVerification, policy: ReleasePolicy): ReleaseSigner {
  if (result.signer.kind !== "certificate") {
    throw new VerifyError(
      "IC_POLICY_SIGNER_KIND",
      "SHA256SUMS is signed with a key, not by a release workflow",
    );
  }
  const { subjectAlternativeName: san, issuer, extensions: ext } = result.signer;
  if (issuer !== policy.issuer) {
    throw new VerifyError(
      "IC_POLICY_ISSUER_MISMATCH",
      `the OIDC issuer is ${JSON.stringify(issuer)}; expected ${JSON.stringify(policy.issuer)}`,
    );
  }
  const [host, owner, repo, ...path] = ["github.com", ...policy.signerWorkflow.split("/")];
  const rule = {
    kind: "workflow" as const,
    host: host ?? "",
    repository: `${owner}/${repo}`,
    path: path.join("/"),
  };
  const at = san.lastIndexOf("@");
  const ref = at === -1 ? "" : san.slice(at + 1);
  const tag = ref.startsWith("refs/tags/") ? ref.slice("refs/tags/".length) : "";
  if (!signerMatches(rule, san) || !RELEASE_TAG.test(tag)) {
    throw new VerifyError(
      "IC_POLICY_SIGNER_MISMATCH",
      `SHA256SUMS was signed by ${JSON.stringify(san)}; expected https://github.com/${policy.signerWorkflow}@refs/tags/vX.Y.Z`,
    );
  }
  if (policy.tag !== undefined && tag !== policy.tag) {
    throw new VerifyError("IC_RELEASE_TAG_MISMATCH", `the signature is for ${tag}; expected ${policy.tag}`);
  }
  const repositoryUri = `https://github.com/${policy.repository}`;
  if (ext.sourceRepositoryUri?.toLowerCase() !== repositoryUri.toLowerCase()) {
    throw new VerifyError(
      "IC_POLICY_REPOSITORY_MISMATCH",
      `the certificate's source repository is ${JSON.stringify(ext.sourceRepositoryUri ?? null)}; expected ${JSON.stringify(repositoryUri)}`,
    );
  }
  if (ext.sourceRepositoryRef !== ref) {
    throw new VerifyError(
      "IC_POLICY_SOURCE_REF_MISMATCH",
      `the certificate's source ref is ${JSON.stringify(ext.sourceRepositoryRef ?? null)}; the signing workflow ran at ${ref}`,
    );
  }
  if (ext.sourceRepositoryDigest === undefined || !/^[0-9a-f]{40}$/.test(ext.sourceRepositoryDigest)) {
    throw new VerifyError("IC_SIGNATURE_CERTIFICATE", "the signing certificate names no source commit");
  }
  if (ext.runnerEnvironment !== "github-hosted") {
    throw new VerifyError(
      "IC_POLICY_SELF_HOSTED_RUNNER",
      `the release was signed on a ${JSON.stringify(ext.runnerEnvironment ?? "unknown")} runner; releases are built on github-hosted runners`,
    );
  }
  return {
    workflow: san,
    repository: policy.repository,
    tag,
    commit: ext.sourceRepositoryDigest,
    ...(ext.runInvocationUri === undefined ? {} : { runInvocationUri: ext.runInvocationUri }),
  };
}
