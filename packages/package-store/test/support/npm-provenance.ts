import { createHash } from "node:crypto";
import {
  GITHUB_ACTIONS_ISSUER,
  githubBuildProvenance,
  githubWorkflowIdentity,
  IN_TOTO_PAYLOAD_TYPE,
  inTotoStatement,
  type LocalSigstore,
  type SigningIdentity,
  SLSA_PROVENANCE_V1,
} from "@ironclaw/sigstore-local";
import { parseTrustedRoots } from "@ironclaw/verify/sigstore";
import { packagePurl } from "../../src/spec.js";

export { GITHUB_ACTIONS_ISSUER };

/** The workflow run `npm publish --provenance` signs from, in `owner/name`. */
export function publishIdentity(repository: string): SigningIdentity {
  return githubWorkflowIdentity({
    repository,
    ref: "refs/heads/main",
    sha: createHash("sha1").update(repository).digest("hex"),
    workflowPath: ".github/workflows/publish.yml",
  });
}

/**
 * The SLSA provenance `npm publish --provenance` writes: the slsa-framework build type, whose
 * builder.id names GitHub's runner (as the real sigstore@2.1.0 provenance in test/fixtures does).
 */
export function npmPredicate(identity: SigningIdentity): Record<string, unknown> {
  const predicate = githubBuildProvenance(identity) as {
    buildDefinition: { buildType: string };
    runDetails: { builder: { id: string } };
  };
  predicate.buildDefinition.buildType =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
  predicate.runDetails.builder.id = "https://github.com/actions/runner/github-hosted";
  return predicate;
}

/** npm's attestations document entry: the provenance bundle, signed by the local Sigstore. */
export async function signNpmProvenance(
  sigstore: LocalSigstore,
  options: { name: string; version: string; tarball: Buffer; repository: string; subjectName?: string },
): Promise<{ predicateType: string; bundle: unknown }> {
  const identity = publishIdentity(options.repository);
  const statement = inTotoStatement(
    [
      {
        name: options.subjectName ?? packagePurl(options.name, options.version),
        sha512: createHash("sha512").update(options.tarball).digest("hex"),
      },
    ],
    SLSA_PROVENANCE_V1,
    npmPredicate(identity),
  );
  const bundle = await sigstore.signDsse(
    Buffer.from(JSON.stringify(statement)),
    IN_TOTO_PAYLOAD_TYPE,
    identity,
  );
  return { predicateType: SLSA_PROVENANCE_V1, bundle };
}

export function trustedRootOf(sigstore: LocalSigstore) {
  return parseTrustedRoots(Buffer.from(JSON.stringify(sigstore.trustedRoot)), "the local Sigstore");
}
