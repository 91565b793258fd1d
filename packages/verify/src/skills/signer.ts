import { buildAttestationPolicy, checkAttestationCertificate } from "../attestation/policy.js";
import { VerifyError } from "../errors.js";
import { exactly } from "../sigstore/identity-policy.js";
import type { SignatureVerification, SignerPolicy } from "../sigstore/verify-signature.js";

/**
 * Who must have signed a skill: an exact certificate identity and OIDC issuer (cosign's
 * --certificate-identity / --certificate-oidc-issuer), or a GitHub repository and optionally the
 * workflow in it (gh attestation verify's --repo / --signer-workflow), read from the certificate.
 */
export type SkillSigner =
  | { readonly issuer: string; readonly identity: string }
  | { readonly repository: string; readonly workflow?: string };

/** What the certificate of a verified skill says. */
export interface SkillSignerFound {
  readonly identity: string;
  readonly issuer: string;
  readonly repository?: string;
}

export function describeSkillSigner(signer: SkillSigner): string {
  if ("identity" in signer)
    return `identity ${JSON.stringify(signer.identity)} from issuer ${JSON.stringify(signer.issuer)}`;
  return signer.workflow === undefined
    ? `a GitHub Actions workflow of ${signer.repository}`
    : `the GitHub Actions workflow ${signer.repository}/${signer.workflow}`;
}

/** The policy sigstore checks itself: the exact identity, or any certificate the root issued (checked after). */
export function signaturePolicyFor(signer: SkillSigner): SignerPolicy {
  if ("identity" in signer) {
    return {
      kind: "certificate",
      identity: {
        subjectAlternativeName: exactly(signer.identity, "certificate identity"),
        issuer: exactly(signer.issuer, "OIDC issuer"),
      },
    };
  }
  // Refuse a malformed repository or workflow before any cryptography, with gh's own message.
  repositoryPolicy(signer);
  return { kind: "any-trusted-certificate" };
}

function repositoryPolicy(signer: { readonly repository: string; readonly workflow?: string }) {
  return buildAttestationPolicy({
    repo: signer.repository,
    ...(signer.workflow === undefined ? {} : { signerWorkflow: `${signer.repository}/${signer.workflow}` }),
  });
}

/** Checks the repository form against the verified certificate; returns who signed. */
export function checkSkillSigner(result: SignatureVerification, signer: SkillSigner): SkillSignerFound {
  if (result.signer.kind !== "certificate") {
    throw new VerifyError(
      "IC_POLICY_SIGNER_KIND",
      "the skill is signed with a key, not keyless with a certificate",
    );
  }
  const { subjectAlternativeName, issuer, extensions } = result.signer;
  if (!("identity" in signer)) {
    checkAttestationCertificate(repositoryPolicy(signer), { subjectAlternativeName, extensions });
  }
  return {
    identity: subjectAlternativeName,
    issuer,
    ...(extensions.sourceRepositoryUri === undefined ? {} : { repository: extensions.sourceRepositoryUri }),
  };
}
