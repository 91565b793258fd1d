import { createHash } from "node:crypto";
import {
  type GitHubWorkflowIdentityOptions,
  githubBuildProvenance,
  githubWorkflowIdentity,
  inTotoStatement,
  LocalSigstore,
  SLSA_PROVENANCE_V1,
} from "@ironclaw/sigstore-local";
import {
  type AttestationPolicyOptions,
  type AttestationVerification,
  buildAttestationPolicy,
  type LoadedTrustedRoot,
  parseAttestationFile,
  parseTrustedRoot,
  verifyAttestations,
} from "@ironclaw/verify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EditableJson, expectVerifyError } from "../sigstore/expect-code.js";

const ARTIFACT = Buffer.from("ironclaw 1.2.3 for linux amd64");
const SHA256 = createHash("sha256").update(ARTIFACT).digest("hex");
const SHA512 = createHash("sha512").update(ARTIFACT).digest("hex");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const RELEASE: GitHubWorkflowIdentityOptions = {
  repository: "acme/tool",
  ref: "refs/tags/v1.2.3",
  sha: COMMIT,
};

let sigstore: LocalSigstore;
let foreign: LocalSigstore;
let root: LoadedTrustedRoot;
beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  foreign = await LocalSigstore.start();
  root = parseTrustedRoot(Buffer.from(JSON.stringify(sigstore.trustedRoot)), "local");
});
afterAll(async () => {
  await sigstore.stop();
  await foreign.stop();
});

interface AttestOptions {
  identity?: GitHubWorkflowIdentityOptions;
  subjects?: { name: string; sha256?: string; sha512?: string }[];
  predicateType?: string;
  editPredicate?: (predicate: EditableJson) => void;
  instance?: LocalSigstore;
}

async function attest(options: AttestOptions = {}): Promise<EditableJson> {
  const identity = githubWorkflowIdentity(options.identity ?? RELEASE);
  const predicate = githubBuildProvenance(identity) as EditableJson;
  options.editPredicate?.(predicate);
  const statement = inTotoStatement(
    options.subjects ?? [{ name: "ironclaw_1.2.3_linux_amd64.tar.gz", sha256: SHA256 }],
    options.predicateType ?? SLSA_PROVENANCE_V1,
    predicate,
  );
  return (await (options.instance ?? sigstore).signDsse(
    Buffer.from(JSON.stringify(statement)),
    "application/vnd.in-toto+json",
    identity,
  )) as EditableJson;
}

const jsonl = (...bundles: unknown[]) => Buffer.from(bundles.map((b) => `${JSON.stringify(b)}\n`).join(""));

function check(
  file: Buffer,
  flags: AttestationPolicyOptions = { repo: "acme/tool" },
  extra: { all?: boolean; algorithm?: "sha256" | "sha512" } = {},
): AttestationVerification {
  const algorithm = extra.algorithm ?? "sha256";
  return verifyAttestations(parseAttestationFile(file), {
    trustedRoot: root,
    policy: buildAttestationPolicy(flags),
    artifact: { digests: algorithm === "sha256" ? { sha256: SHA256 } : { sha512: SHA512 } },
    requireAll: extra.all === true,
  });
}

function onlyFailure(result: AttestationVerification) {
  expect(result.ok).toBe(false);
  expect(result.statements).toHaveLength(1);
  return result.statements[0]?.failure?.code;
}

describe("verifyAttestations", () => {
  it("passes for the right repository, reporting the signer from the certificate", async () => {
    const result = check(jsonl(await attest()));
    expect(result.ok).toBe(true);
    expect(result.summary).toBe("1 of 1 statement(s) about the artifact verified");
    expect(result.statements[0]).toMatchObject({
      line: 1,
      verdict: "verified",
      signatureVerified: true,
      predicateType: SLSA_PROVENANCE_V1,
      signer: {
        workflow: "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3",
        sourceRepository: "https://github.com/acme/tool",
        sourceRef: "refs/tags/v1.2.3",
        sourceCommit: COMMIT,
        runnerEnvironment: "github-hosted",
        runInvocationUri: "https://github.com/acme/tool/actions/runs/1/attempts/1",
      },
      provenance: { crossChecked: true, buildType: "https://actions.github.io/buildtypes/workflow/v1" },
    });
    expect(result.statements[0]?.logEntries).toHaveLength(1);
  });

  it("passes with --owner, and with the owner's name in another case", async () => {
    const file = jsonl(await attest());
    expect(check(file, { owner: "acme" }).ok).toBe(true);
    expect(check(file, { repo: "ACME/Tool" }).ok).toBe(true);
  });

  it("fails for another repository and for another owner", async () => {
    const file = jsonl(await attest());
    expect(onlyFailure(check(file, { repo: "acme/other" }))).toBe("IC_POLICY_REPOSITORY_MISMATCH");
    expect(onlyFailure(check(file, { owner: "evil" }))).toBe("IC_POLICY_OWNER_MISMATCH");
  });

  it("fails for a reusable workflow from another repository unless it is named", async () => {
    const reusable = { ...RELEASE, jobWorkflowRef: "builders/slsa/.github/workflows/build.yml@refs/tags/v2" };
    const file = jsonl(await attest({ identity: reusable }));
    const unnamed = check(file);
    expect(onlyFailure(unnamed)).toBe("IC_POLICY_SIGNER_MISMATCH");
    expect(unnamed.statements[0]?.failure?.message).toContain("--signer-repo or --signer-workflow");
    expect(check(file, { repo: "acme/tool", signerRepo: "builders/slsa" }).ok).toBe(true);
    expect(
      check(file, { repo: "acme/tool", signerWorkflow: "builders/slsa/.github/workflows/build.yml" }).ok,
    ).toBe(true);
    expect(
      check(file, {
        repo: "acme/tool",
        signerWorkflow: "github.com/builders/slsa/.github/workflows/build.yml",
      }).ok,
    ).toBe(true);
  });

  it("never matches --signer-workflow as a prefix", async () => {
    const longer = {
      ...RELEASE,
      jobWorkflowRef: "builders/slsa/.github/workflows/build.yml.evil.yml@refs/heads/x",
    };
    const file = jsonl(await attest({ identity: longer }));
    expect(
      onlyFailure(
        check(file, { repo: "acme/tool", signerWorkflow: "builders/slsa/.github/workflows/build.yml" }),
      ),
    ).toBe("IC_POLICY_SIGNER_MISMATCH");
  });

  it("fails a self-hosted runner only under --deny-self-hosted-runners", async () => {
    const file = jsonl(await attest({ identity: { ...RELEASE, runnerEnvironment: "self-hosted" } }));
    expect(check(file).ok).toBe(true);
    expect(onlyFailure(check(file, { repo: "acme/tool", denySelfHostedRunners: true }))).toBe(
      "IC_POLICY_SELF_HOSTED_RUNNER",
    );
  });

  it("checks --source-ref, --source-digest and --signer-digest exactly", async () => {
    const file = jsonl(await attest());
    expect(
      check(file, {
        repo: "acme/tool",
        sourceRef: "refs/tags/v1.2.3",
        sourceDigest: COMMIT,
        signerDigest: COMMIT,
      }).ok,
    ).toBe(true);
    expect(onlyFailure(check(file, { repo: "acme/tool", sourceRef: "refs/tags/v1.2.4" }))).toBe(
      "IC_POLICY_SOURCE_REF_MISMATCH",
    );
    expect(onlyFailure(check(file, { repo: "acme/tool", sourceRef: "refs/tags/v1.2" }))).toBe(
      "IC_POLICY_SOURCE_REF_MISMATCH",
    );
    expect(onlyFailure(check(file, { repo: "acme/tool", sourceDigest: COMMIT.replace(/^0/, "f") }))).toBe(
      "IC_POLICY_SOURCE_DIGEST_MISMATCH",
    );
    expect(onlyFailure(check(file, { repo: "acme/tool", signerDigest: "f".repeat(40) }))).toBe(
      "IC_POLICY_SIGNER_DIGEST_MISMATCH",
    );
  });

  it("checks the OIDC issuer and an explicit certificate identity", async () => {
    const file = jsonl(await attest());
    expect(
      onlyFailure(check(file, { repo: "acme/tool", certOidcIssuer: "https://accounts.google.com" })),
    ).toBe("IC_POLICY_ISSUER_MISMATCH");
    const workflow = "https://github.com/acme/tool/.github/workflows/release.yml@refs/tags/v1.2.3";
    expect(check(file, { repo: "acme/tool", certIdentity: workflow }).ok).toBe(true);
    expect(onlyFailure(check(file, { repo: "acme/tool", certIdentity: workflow.slice(0, -2) }))).toBe(
      "IC_POLICY_SIGNER_MISMATCH",
    );
    expect(onlyFailure(check(file, { repo: "acme/tool", certIdentityRegex: "acme/tool" }))).toBe(
      "IC_POLICY_SIGNER_MISMATCH",
    );
  });

  it("fails a predicate type other than the one asked for", async () => {
    const file = jsonl(await attest({ predicateType: "https://spdx.dev/Document/v2.3" }));
    expect(onlyFailure(check(file))).toBe("IC_ATTESTATION_PREDICATE_TYPE");
    expect(check(file, { repo: "acme/tool", predicateType: "https://spdx.dev/Document/v2.3" }).ok).toBe(true);
  });

  it("checks a statement parsed once against each policy and artifact it is asked about", async () => {
    // A release verifies one parsed attestations file for every artifact: what is checked once per
    // statement must still answer each policy, and each digest, on its own.
    const entries = parseAttestationFile(jsonl(await attest()));
    const under = (flags: AttestationPolicyOptions, sha256 = SHA256) =>
      verifyAttestations(entries, {
        trustedRoot: root,
        policy: buildAttestationPolicy(flags),
        artifact: { digests: { sha256 } },
        requireAll: false,
      });
    const right = buildAttestationPolicy({ repo: "acme/tool" });
    const wrong = buildAttestationPolicy({ repo: "acme/tool", sourceDigest: "f".repeat(40) });
    const withPolicy = (policy: typeof right, sha256 = SHA256) =>
      verifyAttestations(entries, {
        trustedRoot: root,
        policy,
        artifact: { digests: { sha256 } },
        requireAll: false,
      });
    expect(onlyFailure(withPolicy(wrong))).toBe("IC_POLICY_SOURCE_DIGEST_MISMATCH");
    expect(withPolicy(right).ok).toBe(true);
    expect(onlyFailure(withPolicy(wrong))).toBe("IC_POLICY_SOURCE_DIGEST_MISMATCH");
    expect(onlyFailure(under({ repo: "acme/other" }))).toBe("IC_POLICY_REPOSITORY_MISMATCH");
    expect(onlyFailure(under({ repo: "acme/tool", predicateType: "https://spdx.dev/Document/v2.3" }))).toBe(
      "IC_ATTESTATION_PREDICATE_TYPE",
    );
    // Under the policy that passes, another artifact is still not vouched for.
    const other = withPolicy(right, "ab".repeat(32));
    expect(other.ok).toBe(false);
    expect(other.statements[0]).toMatchObject({
      verdict: "other-artifact",
      failure: { code: "IC_ATTESTATION_SUBJECT_MISMATCH" },
    });
    expect(withPolicy(right).ok).toBe(true);
  });

  it("reports a statement about another artifact and fails when none names this one", async () => {
    const result = check(
      jsonl(await attest({ subjects: [{ name: "other.tar.gz", sha256: "ab".repeat(32) }] })),
    );
    expect(result.ok).toBe(false);
    expect(result.summary).toBe(`no attestation names the artifact sha256:${SHA256}`);
    expect(result.statements[0]).toMatchObject({
      verdict: "other-artifact",
      signatureVerified: true,
      failure: { code: "IC_ATTESTATION_SUBJECT_MISMATCH" },
    });
  });

  it("matches subjects by sha512 with --digest-alg sha512", async () => {
    const file = jsonl(await attest({ subjects: [{ name: "a", sha512: SHA512 }] }));
    expect(check(file, { repo: "acme/tool" }, { algorithm: "sha512" }).ok).toBe(true);
    expect(check(file).ok).toBe(false);
  });

  it.each([
    [
      "the repository",
      (p: EditableJson) =>
        (p.buildDefinition.externalParameters.workflow.repository = "https://github.com/acme/other"),
    ],
    [
      "the workflow ref",
      (p: EditableJson) => (p.buildDefinition.externalParameters.workflow.ref = "refs/heads/main"),
    ],
    [
      "the workflow path",
      (p: EditableJson) =>
        (p.buildDefinition.externalParameters.workflow.path = ".github/workflows/other.yml"),
    ],
    [
      "the commit",
      (p: EditableJson) => (p.buildDefinition.resolvedDependencies[0].digest.gitCommit = "f".repeat(40)),
    ],
    [
      "the builder",
      (p: EditableJson) =>
        (p.runDetails.builder.id = "https://github.com/acme/tool/.github/workflows/x.yml@refs/heads/x"),
    ],
    [
      "the run",
      (p: EditableJson) =>
        (p.runDetails.metadata.invocationId = "https://github.com/acme/tool/actions/runs/2/attempts/1"),
    ],
    [
      "the runner",
      (p: EditableJson) => (p.buildDefinition.internalParameters.github.runner_environment = "self-hosted"),
    ],
    ["no resolved dependencies", (p: EditableJson) => (p.buildDefinition.resolvedDependencies = [])],
  ])("fails when the predicate disagrees with the certificate on %s", async (_what, editPredicate) => {
    const result = check(jsonl(await attest({ editPredicate })));
    expect(onlyFailure(result)).toBe("IC_ATTESTATION_PREDICATE_MISMATCH");
    expect(result.statements[0]?.failure?.message).toContain("the certificate attests");
  });

  it("accepts the older slsa-framework build type, and cross-checks it the same way", async () => {
    const older = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";
    // Its builder.id names the runner environment (see real-builder-id.test.ts for real samples).
    const asWritten = (p: EditableJson) => {
      p.buildDefinition.buildType = older;
      p.runDetails.builder.id = "https://github.com/actions/runner/github-hosted";
    };
    const ok = check(jsonl(await attest({ editPredicate: asWritten })));
    expect(ok.ok).toBe(true);
    expect(ok.statements[0]?.provenance).toEqual({ crossChecked: true, buildType: older });
    const bad = check(
      jsonl(
        await attest({
          editPredicate: (p) => {
            asWritten(p);
            p.buildDefinition.resolvedDependencies[0].digest.gitCommit = "f".repeat(40);
          },
        }),
      ),
    );
    expect(onlyFailure(bad)).toBe("IC_ATTESTATION_PREDICATE_MISMATCH");
    const workflowAsBuilder = check(
      jsonl(await attest({ editPredicate: (p) => (p.buildDefinition.buildType = older) })),
    );
    expect(onlyFailure(workflowAsBuilder)).toBe("IC_ATTESTATION_PREDICATE_MISMATCH");
  });

  it("says when a predicate of an unknown build type could not be cross-checked", async () => {
    const result = check(
      jsonl(
        await attest({ editPredicate: (p) => (p.buildDefinition.buildType = "https://example.com/custom") }),
      ),
    );
    expect(result.ok).toBe(true);
    expect(result.statements[0]?.provenance).toEqual({
      crossChecked: false,
      buildType: "https://example.com/custom",
    });
  });

  it("with one forged statement of two, passes and reports the forgery; fails under --all", async () => {
    const genuine = await attest();
    const forged = await attest({ instance: foreign });
    const file = jsonl(forged, genuine);
    const any = check(file);
    expect(any.ok).toBe(true);
    expect(any.statements.map((s) => [s.line, s.verdict, s.signatureVerified])).toEqual([
      [1, "failed", false],
      [2, "verified", true],
    ]);
    expect(any.statements[0]?.failure?.code).toMatch(/^IC_SIGNATURE_/);
    const all = check(file, { repo: "acme/tool" }, { all: true });
    expect(all.ok).toBe(false);
    expect(all.summary).toBe(
      "1 of 2 statement(s) about the artifact failed, and --all requires every one to verify",
    );
  });

  it("fails a statement whose payload was changed after signing", async () => {
    const bundle = await attest();
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, "base64").toString());
    statement.predicate.runDetails.metadata.invocationId =
      "https://github.com/acme/tool/actions/runs/9/attempts/1";
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString("base64");
    const result = check(jsonl(bundle));
    expect(onlyFailure(result)).toBe("IC_SIGNATURE_TLOG_BODY");
    expect(result.statements[0]?.signatureVerified).toBe(false);
  });

  it("fails a message signature and a non-in-toto envelope as attestations", async () => {
    const message = await sigstore.signMessage(ARTIFACT, githubWorkflowIdentity(RELEASE));
    expect(onlyFailure(check(jsonl(message)))).toBe("IC_ATTESTATION_NOT_DSSE");
    const other = await sigstore.signDsse(
      Buffer.from("{}"),
      "application/json",
      githubWorkflowIdentity(RELEASE),
    );
    expect(onlyFailure(check(jsonl(other)))).toBe("IC_ATTESTATION_NOT_IN_TOTO");
  });

  it("fails a statement with no subjects, and counts it under --all", async () => {
    const identity = githubWorkflowIdentity(RELEASE);
    const empty = await sigstore.signDsse(
      Buffer.from(
        JSON.stringify({
          _type: "https://in-toto.io/Statement/v1",
          subject: [],
          predicateType: SLSA_PROVENANCE_V1,
          predicate: {},
        }),
      ),
      "application/vnd.in-toto+json",
      identity,
    );
    const result = check(jsonl(empty, await attest()), { repo: "acme/tool" }, { all: true });
    expect(result.ok).toBe(false);
    expect(result.statements[0]).toMatchObject({
      line: 1,
      verdict: "failed",
      failure: { code: "IC_ATTESTATION_STATEMENT_INVALID" },
    });
  });
});

describe("parseAttestationFile", () => {
  it("reads one pretty-printed bundle and JSON Lines with CRLF", async () => {
    const bundle = await attest();
    expect(parseAttestationFile(Buffer.from(JSON.stringify(bundle, null, 2)))).toHaveLength(1);
    const crlf = Buffer.from(`${JSON.stringify(bundle)}\r\n${JSON.stringify(bundle)}\r\n`);
    expect(parseAttestationFile(crlf).map((entry) => entry.line)).toEqual([1, 2]);
  });

  it("refuses an empty file", () => {
    expectVerifyError(() => parseAttestationFile(Buffer.from("")), "IC_ATTESTATION_EMPTY");
    expectVerifyError(() => parseAttestationFile(Buffer.from("\n\n")), "IC_ATTESTATION_EMPTY");
  });

  it("refuses the whole file for a line that is not a bundle, naming the line", async () => {
    const bundle = JSON.stringify(await attest());
    const error = expectVerifyError(
      () => parseAttestationFile(Buffer.from(`${bundle}\n{"not":"a bundle"}\n`)),
      "IC_BUNDLE_UNKNOWN_MEDIA_TYPE",
    );
    expect(error.line).toBe(2);
    expect(error.message).toMatch(/^line 2: /);
    expectVerifyError(
      () => parseAttestationFile(Buffer.from(`${bundle}\nnot json\n`)),
      "IC_BUNDLE_MALFORMED_JSON",
    );
    expectVerifyError(
      () => parseAttestationFile(Buffer.from(`${bundle}\n\n${bundle}\n`)),
      "IC_BUNDLE_MALFORMED_JSON",
    );
  });

  it("refuses a bundle without verification material, naming the line", async () => {
    const broken = await attest();
    delete broken.verificationMaterial;
    const file = jsonl(await attest(), broken);
    const error = expectVerifyError(() => parseAttestationFile(file), "IC_BUNDLE_INVALID");
    expect(error.line).toBe(2);
  });
});

describe("buildAttestationPolicy", () => {
  it.each([
    [{}, "give --owner or --repo"],
    [{ repo: "acme" }, "is not OWNER/REPOSITORY"],
    [{ repo: "acme/tool/x" }, "is not OWNER/REPOSITORY"],
    [{ owner: "other", repo: "acme/tool" }, "contradicts"],
    [{ repo: "acme/tool", signerRepo: "a/b", signerWorkflow: "a/b/c.yml" }, "exclude each other"],
    [{ repo: "acme/tool", signerWorkflow: "a/b/.github/workflows/c.yml@main" }, "without @ref"],
    [{ repo: "acme/tool", certIdentityRegex: "(" }, "is invalid"],
  ] as const)("refuses %j", (options, message) => {
    const error = expectVerifyError(() => buildAttestationPolicy(options), "IC_POLICY_INVALID");
    expect(error.message).toContain(message);
  });
});
