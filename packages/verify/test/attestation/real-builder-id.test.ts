import {
  buildAttestationPolicy,
  checkProvenanceAgainstCertificate,
  GITHUB_WORKFLOW_BUILD_TYPES,
  parseAttestationFile,
  publicGoodTrustedRoot,
  verifyAttestations,
} from "@ironclaw/verify";
import { describe, expect, it } from "vitest";
import { realFile, realStatement } from "../real-world/fixtures.js";
import { type EditableJson, expectVerifyError } from "../sigstore/expect-code.js";

// Real attestations from gh's test data (cli/cli pkg/cmd/attestation/test/data), which gh verifies
// (pkg/cmd/attestation/verify/verify_test.go): npm provenance of sigstore@2.1.0, an
// attest-build-provenance bundle from a reusable workflow, and one of GitHub's newer build type.
const [SLSA_FRAMEWORK, ACTIONS] = [GITHUB_WORKFLOW_BUILD_TYPES[1], GITHUB_WORKFLOW_BUILD_TYPES[0]];
const NPM = "gh-cli/sigstore-js-2.1.0-bundle.json";
const REUSABLE = "gh-cli/reusable-workflow-attestation.sigstore.json";
const CUSTOM_ISSUER = "gh-cli/custom-issuer.sigstore.json";

describe("runDetails.builder.id on real attestations", () => {
  it("the slsa-framework build type names the runner, and that is what the certificate's runner environment says", () => {
    for (const path of [NPM, REUSABLE]) {
      const { statement, extensions } = realStatement(path);
      const predicate = statement.predicate as EditableJson;
      expect(predicate.buildDefinition.buildType).toBe(SLSA_FRAMEWORK);
      expect(predicate.runDetails.builder.id).toBe("https://github.com/actions/runner/github-hosted");
      expect(extensions.runnerEnvironment).toBe("github-hosted");
      expect(checkProvenanceAgainstCertificate(predicate, extensions)).toEqual({
        crossChecked: true,
        buildType: SLSA_FRAMEWORK,
      });
    }
  });

  it("refuses a slsa-framework builder.id that names another runner environment or the workflow", () => {
    const { statement, extensions } = realStatement(NPM);
    for (const id of [
      "https://github.com/actions/runner/self-hosted",
      "https://github.com/actions/runner/",
      "https://github.com/actions/runner/github-hosted/",
      extensions.buildSignerUri,
    ]) {
      const predicate = structuredClone(statement.predicate) as EditableJson;
      predicate.runDetails.builder.id = id;
      const error = expectVerifyError(
        () => checkProvenanceAgainstCertificate(predicate, extensions),
        "IC_ATTESTATION_PREDICATE_MISMATCH",
      );
      expect(error.message).toContain("https://github.com/actions/runner/github-hosted");
    }
  });

  it("refuses the runner builder.id when the certificate has no runner environment", () => {
    const { statement, extensions } = realStatement(NPM);
    const { runnerEnvironment: _dropped, ...withoutRunner } = extensions;
    expectVerifyError(
      () => checkProvenanceAgainstCertificate(statement.predicate, withoutRunner),
      "IC_ATTESTATION_PREDICATE_MISMATCH",
    );
  });

  it("GitHub's own build type names the signing workflow, as before", () => {
    const { statement, extensions } = realStatement(CUSTOM_ISSUER);
    const predicate = statement.predicate as EditableJson;
    expect(predicate.buildDefinition.buildType).toBe(ACTIONS);
    expect(predicate.runDetails.builder.id).toBe(extensions.buildSignerUri);
    expect(checkProvenanceAgainstCertificate(predicate, extensions).crossChecked).toBe(true);
    const runner = structuredClone(predicate);
    runner.runDetails.builder.id = "https://github.com/actions/runner/github-hosted";
    expectVerifyError(
      () => checkProvenanceAgainstCertificate(runner, extensions),
      "IC_ATTESTATION_PREDICATE_MISMATCH",
    );
  });

  it("verifies the reusable-workflow attestation end to end under the embedded public-good root", () => {
    const result = verifyAttestations(parseAttestationFile(realFile(REUSABLE)), {
      trustedRoot: publicGoodTrustedRoot(),
      policy: buildAttestationPolicy({
        owner: "malancas",
        signerRepo: "github/artifact-attestations-workflows",
      }),
      artifact: { digests: { sha256: "49a3aa6075e0f49f82843e74b5baa614ad2a588e6675612bf108a0a008c5ac25" } },
      requireAll: false,
    });
    expect(result.statements[0]?.failure).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.statements[0]?.provenance).toEqual({ crossChecked: true, buildType: SLSA_FRAMEWORK });
  });
});
