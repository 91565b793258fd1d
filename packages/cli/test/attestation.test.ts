import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  githubBuildProvenance,
  githubWorkflowIdentity,
  inTotoStatement,
  LocalSigstore,
  SLSA_PROVENANCE_V1,
} from "@ironclaw/sigstore-local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, temporaryDirectory } from "./helpers.js";

const ARTIFACT = "ironclaw executable bytes";
const SHA256 = createHash("sha256").update(ARTIFACT).digest("hex");
const SHA512 = createHash("sha512").update(ARTIFACT).digest("hex");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const WORKFLOW = "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3";

const work = temporaryDirectory("ironclaw-attestation-");
const cwd = work.path;
let sigstore: LocalSigstore;
let foreign: LocalSigstore;

async function attestation(instance: LocalSigstore, sha256: string, name: string): Promise<string> {
  const identity = githubWorkflowIdentity({ repository: "acme/tool", ref: "refs/tags/v1.2.3", sha: COMMIT });
  const statement = inTotoStatement([{ name, sha256 }], SLSA_PROVENANCE_V1, githubBuildProvenance(identity));
  const bundle = await instance.signDsse(
    Buffer.from(JSON.stringify(statement)),
    "application/vnd.in-toto+json",
    identity,
  );
  return JSON.stringify(bundle);
}

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  foreign = await LocalSigstore.start();
  writeFileSync(join(cwd, "ironclaw"), ARTIFACT);
  writeFileSync(join(cwd, "trusted_root.json"), JSON.stringify(sigstore.trustedRoot));
  const genuine = await attestation(sigstore, SHA256, "ironclaw");
  const forged = await attestation(foreign, SHA256, "ironclaw");
  const other = await attestation(sigstore, "ab".repeat(32), "ironclaw.exe");
  writeFileSync(join(cwd, "release.intoto.jsonl"), `${forged}\n${genuine}\n${other}\n`);
  writeFileSync(join(cwd, "genuine.json"), genuine);
  writeFileSync(join(cwd, "empty.jsonl"), "");
});
afterAll(async () => {
  await sigstore.stop();
  await foreign.stop();
  work.remove();
});

const verify = (...args: string[]) =>
  runCli(
    [
      "attestation",
      "verify",
      "ironclaw",
      "--bundle",
      "release.intoto.jsonl",
      "--trusted-root",
      "trusted_root.json",
      ...args,
    ],
    { cwd },
  );

describe("ironclaw attestation verify", () => {
  it("reports every statement on its own line and passes on the genuine one", async () => {
    const result = await verify("--repo", "acme/tool");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[0]).toBe(
      `Attestations for ${join(cwd, "ironclaw")} (sha256:${SHA256}, sha512:${SHA512}) in ${join(cwd, "release.intoto.jsonl")}:`,
    );
    // The root it verified under, by path (point 9 of issue 15).
    expect(lines[1]).toMatch(
      new RegExp(
        `^trusted root: ${join(cwd, "trusted_root.json").replaceAll(".", "\\.")} \\(newest key from \\d{4}-\\d{2}-\\d{2}\\)$`,
      ),
    );
    expect(lines[2]).toMatch(
      /^✗ line 1 FAILED: IC_SIGNATURE_\w+: .*; subject ironclaw; signer https:\/\/github\.com\/acme\/tool\/.* \(unverified\)/,
    );
    expect(lines[3]).toMatch(
      new RegExp(
        `^✓ line 2 verified: subject ironclaw; signer ${WORKFLOW.replaceAll(".", "\\.")}; repository https://github\\.com/acme/tool; ref refs/tags/v1\\.2\\.3; commit ${COMMIT}; runner github-hosted; run https://github\\.com/acme/tool/actions/runs/1/attempts/1; log index \\d+ at \\d{4}-`,
      ),
    );
    expect(lines[4]).toMatch(
      /^- line 3 other artifact: IC_ATTESTATION_SUBJECT_MISMATCH: .*; subject ironclaw\.exe; signer /,
    );
    expect(lines[5]).toBe("Verified: 1 of 2 statement(s) about the artifact verified");
  });

  it("fails under --all because one statement about the artifact is forged", async () => {
    const result = await verify("--repo", "acme/tool", "--all");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "NOT verified: 1 of 2 statement(s) about the artifact failed, and --all requires every one to verify\n",
    );
  });

  it("fails, reporting why, for another repository", async () => {
    const result = await verify("--repo", "acme/other");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✗ line 2 FAILED: IC_POLICY_REPOSITORY_MISMATCH:");
    expect(result.stdout).toContain("NOT verified: none of the 2 statement(s) about the artifact verified\n");
  });

  it("prints the same as a JSON document with --format json and --json", async () => {
    const result = await verify("--repo", "acme/tool", "--format", "json");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      schema: "https://ironclaw.dev/schemas/attestation-verify/v1",
      ok: true,
      summary: "1 of 2 statement(s) about the artifact verified",
      artifact: { name: join(cwd, "ironclaw"), digestAlgorithm: "sha256", digest: SHA256 },
      requireAll: false,
      trustedRoot: { name: join(cwd, "trusted_root.json"), embedded: false },
      policy: {
        owner: "acme",
        repository: "acme/tool",
        signer: { kind: "repository", host: "github.com", repository: "acme/tool" },
        issuer: "https://token.actions.githubusercontent.com",
        predicateType: SLSA_PROVENANCE_V1,
      },
      counts: { total: 3, verified: 1, failed: 1, otherArtifact: 1 },
    });
    expect(report.statements.map((s: { line: number; verdict: string }) => [s.line, s.verdict])).toEqual([
      [1, "failed"],
      [2, "verified"],
      [3, "other-artifact"],
    ]);
    expect(report.statements[1]).toMatchObject({
      signatureVerified: true,
      signer: { workflow: WORKFLOW, sourceCommit: COMMIT },
      provenance: { crossChecked: true },
    });
    expect((await verify("--repo", "acme/tool", "--json")).stdout).toBe(result.stdout);
  });

  it("takes the artifact as sha256:<hex>", async () => {
    const result = await runCli(
      [
        "attestation",
        "verify",
        `sha256:${SHA256}`,
        "--bundle",
        "genuine.json",
        "--trusted-root",
        "trusted_root.json",
        "--owner",
        "acme",
      ],
      { cwd },
    );
    expect(result.code).toBe(0);
  });

  it.each([
    [["--digest-alg", "md5", "--repo", "acme/tool"], "IC_USAGE"],
    [["--format", "yaml", "--repo", "acme/tool"], "IC_USAGE"],
    [[], "IC_POLICY_INVALID"],
    [["--repo", "acme/tool", "--signer-repo", "a/b", "--cert-identity", "x"], "IC_POLICY_INVALID"],
  ])("exits 2 for the flags %j", async (flags, code) => {
    const result = await verify(...flags);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(code);
  });

  it("exits 2 for an empty JSON Lines file", async () => {
    const result = await runCli(
      [
        "attestation",
        "verify",
        "ironclaw",
        "--bundle",
        "empty.jsonl",
        "--trusted-root",
        "trusted_root.json",
        "--repo",
        "acme/tool",
      ],
      { cwd },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("IC_ATTESTATION_EMPTY");
  });
});

describe("ironclaw attestation inspect", () => {
  it("shows each bundle's statement, subjects and claimed signer, saying nothing is verified", async () => {
    const result = await runCli(["attestation", "inspect", "release.intoto.jsonl"], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe(
      `${join(cwd, "release.intoto.jsonl")}: 3 bundle(s); nothing below is verified`,
    );
    expect(result.stdout).toContain(
      "line 2: DSSE application/vnd.in-toto+json (application/vnd.dev.sigstore.bundle.v0.3+json)\n",
    );
    expect(result.stdout).toContain(`  predicate  ${SLSA_PROVENANCE_V1}\n`);
    expect(result.stdout).toContain(`  subject    ironclaw sha256:${SHA256}\n`);
    expect(result.stdout).toContain(`  signer     ${WORKFLOW} (unverified)\n`);
    expect(result.stdout).toContain(`  commit     ${COMMIT}\n`);
  });

  it("prints a JSON document with --json", async () => {
    const result = await runCli(["attestation", "inspect", "--json", "genuine.json"], { cwd });
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({
      schema: "https://ironclaw.dev/schemas/attestation-inspect/v1",
      verified: false,
      bundles: [
        {
          line: 1,
          content: "dsse",
          predicateType: SLSA_PROVENANCE_V1,
          subjects: [{ name: "ironclaw", digest: { sha256: SHA256 } }],
        },
      ],
    });
  });
});
