import type { ArtifactReport, ReleaseCheck, ReleaseVerification } from "@ironclaw/verify/release";
import { releasePolicy } from "@ironclaw/verify/release";
import { describe, expect, it } from "vitest";
import {
  actionOutputs,
  escapeHtml,
  expectationLine,
  failureAnnotations,
  logLine,
  logLines,
  MAX_CHECK_ANNOTATIONS,
  summaryContent,
  verdict,
} from "../src/report.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const SIGNER = {
  workflow: "https://github.com/acme/ironclaw/.github/workflows/release.yml@refs/tags/v1.2.3",
  repository: "acme/ironclaw",
  tag: "v1.2.3",
  commit: COMMIT,
  runInvocationUri: "https://github.com/acme/ironclaw/actions/runs/7/attempts/1",
};

const pass = (check: ReleaseCheck["check"], detail = `${check} ok`): ReleaseCheck => ({
  check,
  ok: true,
  detail,
});
const fail = (check: ReleaseCheck["check"], detail: string, code?: ReleaseCheck["code"]): ReleaseCheck => ({
  check,
  ok: false,
  detail,
  ...(code === undefined ? {} : { code }),
});

function artifact(name: string, checks: ReleaseCheck[]): ArtifactReport {
  return { name, sha256: "ab".repeat(32), ok: checks.every((c) => c.ok), checks };
}

function verification(artifacts: ArtifactReport[], signed = true): ReleaseVerification {
  return {
    ok: artifacts.length > 0 && artifacts.every((a) => a.ok),
    mode: "full",
    repository: "acme/ironclaw",
    ...(signed ? { signer: SIGNER } : {}),
    artifacts,
    notChecked: [],
  };
}

const ALL_PASS = ["signature", "checksum", "provenance", "version"].map((c) =>
  pass(c as ReleaseCheck["check"]),
);
const context = { policy: releasePolicy({ repository: "acme/ironclaw" }), trustedRoot: "/tmp/root.json" };

describe("actionOutputs", () => {
  it("gives the version, tag, commit and run of a verified release", () => {
    expect(actionOutputs(verification([artifact("a.tar.gz", ALL_PASS)]))).toEqual({
      verified: "true",
      version: "1.2.3",
      tag: "v1.2.3",
      commit: COMMIT,
      "run-url": SIGNER.runInvocationUri,
    });
  });

  it("leaves out the run when the certificate names none", () => {
    const { runInvocationUri: _, ...signer } = SIGNER;
    const result = { ...verification([artifact("a.tar.gz", ALL_PASS)]), signer };
    expect(actionOutputs(result)).toEqual({
      verified: "true",
      version: "1.2.3",
      tag: "v1.2.3",
      commit: COMMIT,
    });
  });

  it("gives only verified=false when one check failed, though the signature named a commit", () => {
    const checks = [
      pass("signature"),
      fail("checksum", "expected x, found y", "IC_RELEASE_CHECKSUM_MISMATCH"),
    ];
    expect(actionOutputs(verification([artifact("a.tar.gz", ALL_PASS), artifact("b.zip", checks)]))).toEqual({
      verified: "false",
    });
  });

  it("gives verified=false for no files at all, and for ok without a signer", () => {
    expect(actionOutputs(verification([]))).toEqual({ verified: "false" });
    expect(actionOutputs({ ...verification([artifact("a", ALL_PASS)], false), ok: true })).toEqual({
      verified: "false",
    });
  });
});

describe("summaryContent", () => {
  it("has one row per check per file, ✓ or ✗, with the code before a failure's detail", () => {
    const result = verification([
      artifact("a.tar.gz", ALL_PASS),
      artifact("b.zip", [
        pass("signature"),
        fail("checksum", "expected x, found y", "IC_RELEASE_CHECKSUM_MISMATCH"),
      ]),
    ]);
    const { heading, table, paragraphs } = summaryContent(result, context);
    expect(heading).toBe("✗ Release NOT verified");
    expect(table[0]).toEqual(["File", "Check", "Result", "Detail"].map((data) => ({ data, header: true })));
    expect(table.slice(1).map((row) => row.map((cell) => cell.data))).toEqual([
      ["<code>a.tar.gz</code>", "signature", "✓", "signature ok"],
      ["<code>a.tar.gz</code>", "checksum", "✓", "checksum ok"],
      ["<code>a.tar.gz</code>", "provenance", "✓", "provenance ok"],
      ["<code>a.tar.gz</code>", "version", "✓", "version ok"],
      ["<code>b.zip</code>", "signature", "✓", "signature ok"],
      ["<code>b.zip</code>", "checksum", "✗", "IC_RELEASE_CHECKSUM_MISMATCH: expected x, found y"],
    ]);
    expect(paragraphs).toContain("NOT verified: 1 of 2 file(s) failed a check");
  });

  it("says what was expected and which root was trusted, and who signed when verified", () => {
    const { heading, paragraphs } = summaryContent(verification([artifact("a.tar.gz", ALL_PASS)]), {
      policy: releasePolicy({ repository: "acme/ironclaw", tag: "v1.2.3" }),
      trustedRoot: "/tmp/root.json",
    });
    expect(heading).toBe("✓ Release verified");
    expect(paragraphs).toEqual([
      "Expected SHA256SUMS signed by https://github.com/acme/ironclaw/.github/workflows/release.yml@refs/tags/v1.2.3 (issuer https://token.actions.githubusercontent.com, repository acme/ironclaw), against /tmp/root.json",
      `Release v1.2.3 of acme/ironclaw, commit ${COMMIT}, signed by ${SIGNER.workflow}, run ${SIGNER.runInvocationUri}`,
      `Verified: 1 file(s) of acme/ironclaw v1.2.3 (commit ${COMMIT})`,
    ]);
  });

  it("escapes HTML in names and details, which come from SHA256SUMS before anything vouches for it", () => {
    const name = `<img src=x onerror="alert('x')">&.tar.gz`;
    const result = verification([artifact(name, [fail("checksum", `no line for "${name}"`)])], false);
    const cells = summaryContent(result, context).table[1]?.map((cell) => cell.data);
    expect(cells?.[0]).toBe(
      "<code>&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;.tar.gz</code>",
    );
    expect(cells?.[3]).not.toContain("<img");
    expect(escapeHtml(`<>&"'`)).toBe("&lt;&gt;&amp;&quot;&#39;");
  });

  it("says so when there was no file to verify", () => {
    expect(verdict(verification([]))).toBe("NOT verified: there was no file to verify");
  });

  it("puts the tag the caller asked for, or vX.Y.Z, in what was expected", () => {
    expect(expectationLine(releasePolicy({ repository: "o/r", signerWorkflow: "o/r/x.yml" }), "R")).toBe(
      "Expected SHA256SUMS signed by https://github.com/o/r/x.yml@refs/tags/vX.Y.Z (issuer https://token.actions.githubusercontent.com, repository o/r), against R",
    );
  });
});

describe("failureAnnotations", () => {
  it("is empty when everything passed", () => {
    expect(failureAnnotations(verification([artifact("a.tar.gz", ALL_PASS)]))).toEqual([]);
  });

  it("titles each failure with the file and the check, and leads the message with the code", () => {
    const result = verification([
      artifact("a.tar.gz", [
        pass("signature"),
        fail("checksum", "expected x, found y", "IC_RELEASE_CHECKSUM_MISMATCH"),
        fail("provenance", "no attestation names it", "IC_RELEASE_PROVENANCE"),
      ]),
    ]);
    expect(failureAnnotations(result)).toEqual([
      {
        title: "a.tar.gz: checksum check failed",
        message: "IC_RELEASE_CHECKSUM_MISMATCH: expected x, found y",
      },
      {
        title: "a.tar.gz: provenance check failed",
        message: "IC_RELEASE_PROVENANCE: no attestation names it",
      },
    ]);
  });

  it("makes one annotation of a failure several files share, naming them", () => {
    const bad = fail("signature", "signed by someone else", "IC_POLICY_SIGNER_MISMATCH");
    const names = ["a", "b", "c", "d", "e"];
    const result = verification(
      names.map((n) => artifact(n, [bad, pass("checksum")])),
      false,
    );
    expect(failureAnnotations(result)).toEqual([
      {
        title: "a, b, c and 2 more: signature check failed",
        message: "IC_POLICY_SIGNER_MISMATCH: signed by someone else",
      },
    ]);
  });

  it("keeps failures with different details apart", () => {
    const result = verification([
      artifact("a", [fail("checksum", "expected 1, found 2", "IC_RELEASE_CHECKSUM_MISMATCH")]),
      artifact("b", [fail("checksum", "expected 3, found 4", "IC_RELEASE_CHECKSUM_MISMATCH")]),
    ]);
    expect(failureAnnotations(result).map((a) => a.title)).toEqual([
      "a: checksum check failed",
      "b: checksum check failed",
    ]);
  });

  it("stops at the step's limit and says how many more the summary holds", () => {
    const names = Array.from({ length: 12 }, (_, i) => `file${i}`);
    const result = verification(
      names.map((n) => artifact(n, [fail("checksum", `${n} differs`, "IC_RELEASE_CHECKSUM_MISMATCH")])),
    );
    const annotations = failureAnnotations(result);
    expect(MAX_CHECK_ANNOTATIONS).toBe(9);
    expect(annotations).toHaveLength(9);
    expect(annotations.slice(0, 8).map((a) => a.title)).toEqual(
      names.slice(0, 8).map((n) => `${n}: checksum check failed`),
    );
    expect(annotations[8]).toEqual({
      title: "4 more failed check(s)",
      message: "a step shows only 10 error annotations; the job summary lists every check of every file",
    });
    // Exactly at the limit, nothing is folded.
    expect(failureAnnotations(result, 12).map((a) => a.title)).toHaveLength(12);
  });
});

describe("logLines", () => {
  it("starts every line with a word of ours, so no file name can become a workflow command", () => {
    const name = "::error::forged";
    const result = verification(
      [artifact(name, [fail("checksum", `no line for ${name}\n::warning::x`)])],
      false,
    );
    const lines = logLines(result);
    expect(lines).toEqual([
      "File ::error::forged",
      "  ✗ checksum   no line for ::error::forged ::warning::x",
      "NOT verified: 1 of 1 file(s) failed a check",
    ]);
    for (const line of lines) expect(line.trimStart().startsWith("::")).toBe(false);
  });

  it("turns every control character and Unicode line separator into a space", () => {
    expect(logLine("a\rb\nc\u0000d\u0085e\u2028f\u2029g\u007f")).toBe("a b c d e f g ");
  });

  it("leads with the signed release when the signature verified", () => {
    expect(logLines(verification([artifact("a.tar.gz", ALL_PASS)]))[0]).toBe(
      `Release v1.2.3 of acme/ironclaw, commit ${COMMIT}, signed by ${SIGNER.workflow}, run ${SIGNER.runInvocationUri}`,
    );
  });
});
