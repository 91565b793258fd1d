import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

// Real attestations from gh's test data (cli/cli pkg/cmd/attestation/test/data, see
// test/fixtures/real-world/NOTICE), which gh's verify_test.go verifies under the public-good root.
const cwd = fileURLToPath(new URL("../../../test/fixtures/real-world/gh-cli/", import.meta.url));
const NPM_SHA512 =
  "90f223f992e4c88dd068cd2a5fc57f9d2b30798343dd6e38f29c240e04ba090ef831f84490847c4e82b9232c78e8a258463b1e55c0f7469f730265008fa6633f";

const verify = (artifact: string, bundle: string, ...flags: string[]) =>
  runCli(["attestation", "verify", artifact, "--bundle", bundle, ...flags], { cwd, env: {} });

describe("ironclaw attestation verify on real npm provenance and GitHub attestations", () => {
  it("verifies npm provenance of sigstore@2.1.0: its subject carries only sha512", async () => {
    for (const bundle of ["sigstore-js-2.1.0-bundle.json"]) {
      const result = await verify("sigstore-js-2.1.0.tgz", bundle, "--owner", "sigstore", "--json");
      expect(result.stderr).toBe("");
      const report = JSON.parse(result.stdout);
      expect(report.ok).toBe(true);
      expect(report.artifact.digests.sha512).toBe(NPM_SHA512);
      expect(report.trustedRoot).toMatchObject({ name: "Sigstore public-good (embedded)", embedded: true });
      expect(report.statements[0]).toMatchObject({
        verdict: "verified",
        provenance: {
          crossChecked: true,
          buildType: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
        },
      });
      expect(result.code).toBe(0);
    }
  });

  it("verifies it with gh's --digest-alg sha512, and from sha512:<hex>", async () => {
    const bundle = "sigstore-js-2.1.0-bundle.json";
    expect(
      (await verify("sigstore-js-2.1.0.tgz", bundle, "--owner", "sigstore", "--digest-alg", "sha512")).code,
    ).toBe(0);
    expect((await verify(`sha512:${NPM_SHA512}`, bundle, "--repo", "sigstore/sigstore-js")).code).toBe(0);
  });

  it("says which algorithms the subjects carry when none matches", async () => {
    const only256 = await verify(
      "sigstore-js-2.1.0.tgz",
      "sigstore-js-2.1.0-bundle.json",
      "--owner",
      "sigstore",
      "--digest-alg",
      "sha256",
    );
    expect(only256.code).toBe(1);
    expect(only256.stdout).toContain("they carry sha512");
    const other = await verify(
      `sha512:${"0".repeat(128)}`,
      "sigstore-js-2.1.0-bundle.json",
      "--owner",
      "sigstore",
    );
    expect(other.code).toBe(1);
    expect(other.stdout).toContain("no attestation names the artifact sha512:0000");
  });

  it("refuses npm provenance for another owner and for a tampered package", async () => {
    const owner = await verify("sigstore-js-2.1.0.tgz", "sigstore-js-2.1.0-bundle.json", "--owner", "npm");
    expect(owner.code).toBe(1);
    expect(owner.stdout).toContain("IC_POLICY_OWNER_MISMATCH");
    const tampered = await verify(
      "github_provenance_demo-0.0.12-py3-none-any.whl",
      "sigstore-js-2.1.0-bundle.json",
      "--owner",
      "sigstore",
    );
    expect(tampered.code).toBe(1);
  });

  it("verifies a reusable-workflow attest-build-provenance bundle (sha256 subjects) by its file", async () => {
    const result = await verify(
      "reusable-workflow-artifact",
      "reusable-workflow-attestation.sigstore.json",
      "--owner",
      "malancas",
      "--signer-repo",
      "github/artifact-attestations-workflows",
    );
    expect(result.stdout).toContain("✓ line 1 verified");
    expect(result.code).toBe(0);
  });

  it("takes --custom-trusted-root as JSON Lines, as gh attestation trusted-root prints it, choosing by CA", async () => {
    const work = temporaryDirectory("ironclaw-roots-");
    try {
      const roots = join(work.path, "roots.jsonl");
      const scaffolding = JSON.parse(
        readFileSync(join(cwd, "../sigstore-go/trusted-roots/scaffolding.json"), "utf8"),
      );
      writeFileSync(
        roots,
        `${JSON.stringify(scaffolding)}\n${readFileSync(join(cwd, "trusted_root.json"), "utf8").trim()}\n`,
      );
      const result = await verify(
        "sigstore-js-2.1.0.tgz",
        "sigstore-js-2.1.0-bundle.json",
        "--owner",
        "sigstore",
        "--custom-trusted-root",
        roots,
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    } finally {
      work.remove();
    }
  });

  it("refuses the same provenance in a v0.1 bundle, as gh does (unsupported bundle version)", async () => {
    const result = await verify(
      "sigstore-js-2.1.0.tgz",
      "sigstore-js-2.1.0-bundle-v0.1.json",
      "--owner",
      "sigstore",
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("IC_BUNDLE_UNKNOWN_MEDIA_TYPE: unsupported bundle version");
  });
});
