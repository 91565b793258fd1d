import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { githubWorkflowIdentity, LocalSigstore } from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

const IDENTITY = "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3";
const ISSUER = "https://token.actions.githubusercontent.com";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const ARTIFACT = "abc123  ironclaw_1.2.3_linux_amd64.tar.gz\n";
const DIGEST = createHash("sha256").update(ARTIFACT).digest("hex");

let sigstore: LocalSigstore;
const work = temporaryDirectory("ironclaw-verify-bundle-");
const cwd = work.path;
const keyless = ["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER];

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  const identity = githubWorkflowIdentity({ repository: "acme/tool", ref: "refs/tags/v1.2.3", sha: COMMIT });
  writeFileSync(join(cwd, "SHA256SUMS"), ARTIFACT);
  writeFileSync(join(cwd, "trusted_root.json"), JSON.stringify(sigstore.trustedRoot));
  writeFileSync(
    join(cwd, "SHA256SUMS.sigstore.json"),
    JSON.stringify(await sigstore.signMessage(Buffer.from(ARTIFACT), identity)),
  );
  writeFileSync(
    join(cwd, "legacy.bundle"),
    JSON.stringify(await sigstore.signLegacyCosign(Buffer.from(ARTIFACT), identity)),
  );
  // Self-made: a second RFC 3161 timestamp, real but made over another signature, never verifies here.
  const twoStamps = (await sigstore.signMessage(Buffer.from(ARTIFACT), identity)) as {
    verificationMaterial: { timestampVerificationData: { rfc3161Timestamps: unknown[] } };
  };
  const other = (await sigstore.signMessage(Buffer.from("other"), identity)) as typeof twoStamps;
  twoStamps.verificationMaterial.timestampVerificationData.rfc3161Timestamps.push(
    ...other.verificationMaterial.timestampVerificationData.rfc3161Timestamps,
  );
  writeFileSync(join(cwd, "two-stamps.sigstore.json"), JSON.stringify(twoStamps));
  writeFileSync(join(cwd, "SHA256SUMS.sig"), "MEUCIQDx0123456789abcdef==\n");
  const root = structuredClone(sigstore.trustedRoot) as {
    tlogs: Array<{ publicKey: { validFor: { start?: string } } }>;
  };
  delete root.tlogs[0]?.publicKey.validFor.start;
  writeFileSync(join(cwd, "open-ended-root.json"), JSON.stringify(root));
});
afterAll(async () => {
  await sigstore.stop();
  work.remove();
});

const verifyBundle = (...args: string[]) => runCli(["verify-bundle", ...args], { cwd });
const standard = ["--bundle", "SHA256SUMS.sigstore.json", "--trusted-root", "trusted_root.json"];

describe("ironclaw verify-bundle", () => {
  it("accepts a bundle with one timestamp that does not verify, and says so in text and JSON", async () => {
    const args = ["--bundle", "two-stamps.sigstore.json", "--trusted-root", "trusted_root.json", ...keyless];
    const text = await verifyBundle(...args, "SHA256SUMS");
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\n {2}timestamp {3}\S+ \(timestamp authority\) NOT verified, not counted: /);
    const json = JSON.parse((await verifyBundle(...args, "--json", "SHA256SUMS")).stdout);
    expect(json.unverifiedTimestamps).toHaveLength(1);
    expect(json.unverifiedTimestamps[0].index).toBe(1);
  });

  it("prints the verified signer, commit, log entry and root, and exits 0", async () => {
    const result = await verifyBundle(...standard, ...keyless, "SHA256SUMS");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(`Verified OK: ${join(cwd, "SHA256SUMS")}`);
    expect(result.stdout).toContain(`  signer      ${IDENTITY}\n`);
    expect(result.stdout).toContain(`  issuer      ${ISSUER}\n`);
    expect(result.stdout).toContain(`  commit      ${COMMIT}\n`);
    expect(result.stdout).toContain("  runner      github-hosted\n");
    expect(result.stdout).toMatch(
      / {2}log entry {3}index \d+ \(hashedrekord 0\.0\.1, integrated \d{4}-\d\d-\d\dT/,
    );
    expect(result.stdout).toContain(`  trusted by  ${join(cwd, "trusted_root.json")}\n`);
  });

  it("verifies the same from sha256:<hex>", async () => {
    const result = await verifyBundle(...standard, ...keyless, `sha256:${DIGEST}`);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe(`Verified OK: sha256:${DIGEST}`);
  });

  it("prints a JSON document with --json", async () => {
    const result = await verifyBundle(...standard, ...keyless, "--json", "SHA256SUMS");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      schema: "https://ironclaw.dev/schemas/verify-bundle/v1",
      ok: true,
      artifact: { path: join(cwd, "SHA256SUMS"), sha256: DIGEST },
      format: "sigstore-bundle",
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      content: { kind: "message-signature" },
      signer: {
        kind: "certificate",
        subjectAlternativeName: IDENTITY,
        issuer: ISSUER,
        extensions: { sourceRepositoryDigest: COMMIT },
      },
    });
    expect(report.transparencyLog[0]).toMatchObject({ kind: "hashedrekord", version: "0.0.1" });
    expect(report.timestamps.map((t: { source: string }) => t.source).sort()).toEqual([
      "timestamp-authority",
      "transparency-log",
    ]);
  });

  it("takes the trusted root from IRONCLAW_TRUSTED_ROOT, says so, and lets --trusted-root override it", async () => {
    const fromEnvironment = await runCli(
      ["verify-bundle", "--bundle", "SHA256SUMS.sigstore.json", ...keyless, "SHA256SUMS"],
      {
        cwd,
        env: { IRONCLAW_TRUSTED_ROOT: "trusted_root.json" },
      },
    );
    expect(fromEnvironment.code).toBe(0);
    expect(fromEnvironment.stdout).toContain(
      `  trusted by  ${join(cwd, "trusted_root.json")} (from IRONCLAW_TRUSTED_ROOT)\n`,
    );
    const overridden = await runCli(["verify-bundle", ...standard, ...keyless, "SHA256SUMS"], {
      cwd,
      env: { IRONCLAW_TRUSTED_ROOT: "open-ended-root.json" },
    });
    expect(overridden.code).toBe(0);
    const empty = await runCli(
      ["verify-bundle", "--bundle", "SHA256SUMS.sigstore.json", ...keyless, "SHA256SUMS"],
      {
        cwd,
        env: { IRONCLAW_TRUSTED_ROOT: "" },
      },
    );
    expect(empty.code).toBe(1);
  });

  it("verifies cosign's legacy bundle", async () => {
    const result = await verifyBundle(
      "--bundle",
      "legacy.bundle",
      "--trusted-root",
      "trusted_root.json",
      ...keyless,
      "SHA256SUMS",
    );
    expect(result.code).toBe(0);
  });

  it("exits 1 with the code and both identities when the signer differs", async () => {
    const result = await verifyBundle(
      ...standard,
      "--certificate-identity",
      IDENTITY.replace("v1.2.3", "v1.2.4"),
      "--certificate-oidc-issuer",
      ISSUER,
      "SHA256SUMS",
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^ironclaw: error IC_POLICY_IDENTITY_MISMATCH: .*v1\.2\.3.*v1\.2\.4/);
  });

  it("anchors --certificate-identity-regexp", async () => {
    const unanchored = await verifyBundle(
      ...standard,
      "--certificate-identity-regexp",
      "acme/tool",
      "--certificate-oidc-issuer",
      ISSUER,
      "SHA256SUMS",
    );
    expect(unanchored.code).toBe(1);
    const anchored = await verifyBundle(
      ...standard,
      "--certificate-identity-regexp",
      "https://github\\.com/acme/tool/.*",
      "--certificate-oidc-issuer-regexp",
      "https://token\\.actions\\.githubusercontent\\.com",
      "SHA256SUMS",
    );
    expect(anchored.code).toBe(0);
  });

  it("exits 1 for a changed artifact and for the embedded public-good root", async () => {
    writeFileSync(join(cwd, "changed"), `${ARTIFACT} `);
    expect((await verifyBundle(...standard, ...keyless, "changed")).stderr).toContain(
      "IC_SIGNATURE_ARTIFACT_MISMATCH",
    );
    const publicGood = await verifyBundle("--bundle", "SHA256SUMS.sigstore.json", ...keyless, "SHA256SUMS");
    expect(publicGood.code).toBe(1);
    expect(publicGood.stderr).toContain("IC_SIGNATURE_");
  });

  it.each([
    [["--certificate-identity", IDENTITY], "IC_USAGE"],
    [[...keyless, "--certificate-identity-regexp", ".*"], "IC_USAGE"],
    [[...keyless, "--key", "trusted_root.json"], "IC_USAGE"],
    [["--certificate-identity-regexp", "(", "--certificate-oidc-issuer", ISSUER], "IC_POLICY_INVALID"],
    [[...keyless, "--signature", "SHA256SUMS.sig", "--certificate", "x.pem"], "IC_BUNDLE_DETACHED_SIGNATURE"],
  ])("exits 2 for the flags %j", async (flags, code) => {
    const result = await verifyBundle(...standard, ...flags, "SHA256SUMS");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(code);
  });

  it("exits 2 for a detached signature given as the bundle, saying a bundle is needed", async () => {
    const result = await verifyBundle(
      "--bundle",
      "SHA256SUMS.sig",
      "--trusted-root",
      "trusted_root.json",
      ...keyless,
      "SHA256SUMS",
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_BUNDLE_DETACHED_SIGNATURE");
    expect(result.stderr).toContain("a bundle is needed to verify the transparency-log entry offline");
  });

  it("exits 2 for a trusted root with a log that has no validity start", async () => {
    const result = await verifyBundle(
      "--bundle",
      "SHA256SUMS.sigstore.json",
      "--trusted-root",
      "open-ended-root.json",
      ...keyless,
      "SHA256SUMS",
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_TRUSTED_ROOT_MISSING_VALIDITY");
  });

  it("exits 2 for a malformed digest and 3 for a missing file", async () => {
    expect((await verifyBundle(...standard, ...keyless, "sha256:abc")).code).toBe(2);
    const missing = await verifyBundle(
      "--bundle",
      "nope.json",
      "--trusted-root",
      "trusted_root.json",
      ...keyless,
      "SHA256SUMS",
    );
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("IC_FILE_MISSING");
  });

  it("prints a JSON error document with --json", async () => {
    const result = await verifyBundle(...standard, ...keyless, "--json", "changed");
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      exitCode: 1,
      error: { code: "IC_SIGNATURE_ARTIFACT_MISMATCH" },
    });
  });
});
