import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readSourceInfo } from "@ironclaw/release";
import { LocalSigstore } from "@ironclaw/sigstore-local";
import { parseChecksums } from "@ironclaw/verify/checksums";
import { parseAssetName } from "@ironclaw/verify/release";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  flipByte,
  REPOSITORY,
  ROOT,
  releaseIdentityFor,
  removeAll,
  resign,
  signedRelease,
  variant,
} from "../../cli/test/release-fixture.js";
import {
  type ActionInputValues,
  type ActionRun,
  errorAnnotations,
  removeRunnerFiles,
  runAction,
  type SummaryRow,
  summaryRows,
} from "./actions-env.js";

const VERSION = "0.9.0";
const ARCHIVE = `ironclaw_${VERSION}_node.tar.gz`;
const JSONL = `ironclaw_${VERSION}.intoto.jsonl`;
const CHECKS = ["signature", "checksum", "provenance", "version"];

let sigstore: LocalSigstore;
let release: string;
/** Every file the fixture's SHA256SUMS lists, in its order: what the Action verifies by default. */
let listed: string[];
const made: string[] = [];

beforeAll(async () => {
  sigstore = await LocalSigstore.start();
  release = await signedRelease(sigstore, VERSION);
  made.push(release);
  listed = parseChecksums(readFileSync(join(release, "SHA256SUMS"))).entries.map((entry) => entry.name);
  expect(listed).toEqual(expect.arrayContaining([JSONL, ARCHIVE]));
}, 120_000);
afterAll(async () => {
  await sigstore.stop();
  removeAll(...made);
  removeRunnerFiles();
});

function broken(name: string): string {
  const dir = variant(release, name);
  made.push(dir);
  return dir;
}

/** The inputs a workflow verifying a release:local set passes. */
const inputsFor = (dir: string, more: ActionInputValues = {}): ActionInputValues => ({
  directory: dir,
  repository: REPOSITORY,
  "trusted-root": join(dir, "trusted_root.json"),
  ...more,
});

function row(result: ActionRun, file: string, check: string): SummaryRow | undefined {
  return summaryRows(result.summary).find((r) => r.file === file && r.check === check);
}

/** The checks of one file: the version check is for names that carry a version (DESIGN §3, docs/verify.md). */
const checksOf = (name: string) => (parseAssetName(name) === undefined ? CHECKS.slice(0, 3) : CHECKS);

/** Every check of every file is one row of the summary's table, in the order the files were verified. */
function expectEveryCheckInTable(result: ActionRun, files: string[]): void {
  const rows = summaryRows(result.summary).map((r) => `${r.file} ${r.check}`);
  expect(rows).toEqual(files.flatMap((file) => checksOf(file).map((check) => `${file} ${check}`)));
}

/** How an annotation's title names the files that share a failure: three, then how many more. */
const titleNames = (names: string[]) =>
  names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ");

describe("the Action on a release:local set", () => {
  it("verifies every file, sets the outputs and writes every check to the summary", async () => {
    const result = await runAction(inputsFor(release));
    expect(result.exitCode).toBeUndefined();
    expect(errorAnnotations(result.stdout)).toEqual([]);
    expect(result.outputs).toEqual({
      verified: "true",
      version: VERSION,
      tag: `v${VERSION}`,
      commit: readSourceInfo(ROOT).commit,
      "run-url": expect.stringMatching(/^https:\/\/github\.com\/acme\/ironclaw\/actions\/runs\/\d+/),
    });
    expect(result.summary).toContain("<h2>✓ Release verified</h2>");
    expect(result.summary).toContain(`Verified: ${listed.length} file(s) of ${REPOSITORY} v${VERSION}`);
    expectEveryCheckInTable(result, listed);
    expect(summaryRows(result.summary).every((r) => r.result === "✓")).toBe(true);
    expect(row(result, ARCHIVE, "checksum")?.detail).toMatch(
      /^sha256 [0-9a-f]{64} matches SHA256SUMS line \d+$/,
    );
    expect(result.stdout).toContain(`Verified: ${listed.length} file(s) of ${REPOSITORY} v${VERSION}`);
  });

  it("verifies only the files the artifacts input names", async () => {
    const result = await runAction(inputsFor(release, { artifacts: `\n${ARCHIVE}\n\n` }));
    expect(result.exitCode).toBeUndefined();
    expect(result.outputs.verified).toBe("true");
    expectEveryCheckInTable(result, [ARCHIVE]);
  });

  it("accepts the signed tag when the tag input names it", async () => {
    const result = await runAction(inputsFor(release, { tag: `v${VERSION}` }));
    expect(result.exitCode).toBeUndefined();
    expect(result.outputs.tag).toBe(`v${VERSION}`);
  });
});

describe("the Action on a tampered set", () => {
  it("fails on an archive with one flipped byte: checksum and provenance, annotated and in the table", async () => {
    const dir = broken("flipped");
    flipByte(join(dir, ARCHIVE));
    const result = await runAction(inputsFor(dir));
    expect(result.exitCode).toBe(1);
    // Nothing a later step could build on: no version, tag, commit or run.
    expect(result.outputs).toEqual({ verified: "false" });
    expect(result.summary).toContain("<h2>✗ Release NOT verified</h2>");
    expectEveryCheckInTable(result, listed);
    expect(row(result, ARCHIVE, "signature")?.result).toBe("✓");
    expect(row(result, ARCHIVE, "checksum")).toMatchObject({
      result: "✗",
      detail: expect.stringMatching(/^IC_RELEASE_CHECKSUM_MISMATCH: expected sha256 [0-9a-f]{64}/),
    });
    expect(row(result, ARCHIVE, "provenance")).toMatchObject({
      result: "✗",
      detail: expect.stringMatching(/^IC_RELEASE_PROVENANCE: /),
    });
    // Every other file still passes every check.
    expect(summaryRows(result.summary).filter((r) => r.file !== ARCHIVE && r.result !== "✓")).toEqual([]);
    const annotations = errorAnnotations(result.stdout);
    expect(annotations.slice(0, 2)).toEqual([
      {
        title: `${ARCHIVE}: checksum check failed`,
        message: expect.stringMatching(/^IC_RELEASE_CHECKSUM_MISMATCH: /),
      },
      {
        title: `${ARCHIVE}: provenance check failed`,
        message: expect.stringMatching(/^IC_RELEASE_PROVENANCE: /),
      },
    ]);
    expect(annotations[2]).toEqual({
      title: "",
      message: `NOT verified: 1 of ${listed.length} file(s) failed a check; the job summary lists every check of every file`,
    });
    expect(annotations).toHaveLength(3);
  });

  it("fails on a SHA256SUMS signed by another repository's release workflow", async () => {
    const dir = broken("other-repository");
    // The same files, in a SHA256SUMS signed by the release workflow of another repository.
    await resign(sigstore, dir, releaseIdentityFor(VERSION, { repository: "mallory/ironclaw" }), listed);
    const result = await runAction(inputsFor(dir));
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({ verified: "false" });
    // Without a trusted signature there is no signed tag to hold file names to: no version rows.
    expect(summaryRows(result.summary).map((r) => `${r.file} ${r.check}`)).toEqual(
      listed.flatMap((file) => CHECKS.slice(0, 3).map((check) => `${file} ${check}`)),
    );
    for (const file of listed) {
      expect(row(result, file, "signature")).toMatchObject({
        result: "✗",
        detail: expect.stringMatching(
          /^IC_POLICY_SIGNER_MISMATCH: SHA256SUMS was signed by .*mallory\/ironclaw/,
        ),
      });
      // The checksums match the new SHA256SUMS; only who signed it is wrong.
      expect(row(result, file, "checksum")?.result).toBe("✓");
      expect(row(result, file, "provenance")).toMatchObject({
        result: "✗",
        detail: expect.stringMatching(/^not checked/),
      });
    }
    // A failure every file shares is one annotation naming them.
    const annotations = errorAnnotations(result.stdout);
    expect(annotations.map((a) => a.title)).toEqual([
      `${titleNames(listed)}: signature check failed`,
      `${titleNames(listed)}: provenance check failed`,
      "",
    ]);
    expect(annotations[0]?.message).toMatch(/^IC_POLICY_SIGNER_MISMATCH: /);
  });

  it("fails when the tag input is not the signed tag", async () => {
    const result = await runAction(inputsFor(release, { tag: "v9.9.9" }));
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({ verified: "false" });
    expect(row(result, ARCHIVE, "signature")?.detail).toBe(
      `IC_RELEASE_TAG_MISMATCH: the signature is for v${VERSION}; expected v9.9.9`,
    );
  });

  it("fails against the public-good root when no trusted root is given: the local instance is not trusted", async () => {
    const { "trusted-root": _, ...inputs } = inputsFor(release);
    const result = await runAction(inputs);
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({ verified: "false" });
    expect(row(result, ARCHIVE, "signature")?.result).toBe("✗");
    expect(result.summary).toContain("against the Sigstore public-good root embedded in the action");
  });

  it("fails every file when SHA256SUMS.sigstore.json is missing", async () => {
    const dir = broken("unsigned");
    rmSync(join(dir, "SHA256SUMS.sigstore.json"));
    const result = await runAction(inputsFor(dir));
    expect(result.exitCode).toBe(1);
    for (const file of [JSONL, ARCHIVE]) {
      expect(row(result, file, "signature")?.detail).toBe(
        "IC_FILE_MISSING: SHA256SUMS.sigstore.json is missing: the release is not signed",
      );
    }
  });

  it("fails a named file that SHA256SUMS does not list", async () => {
    const result = await runAction(inputsFor(release, { artifacts: "trusted_root.json" }));
    expect(result.exitCode).toBe(1);
    expect(row(result, "trusted_root.json", "checksum")?.detail).toBe(
      'IC_RELEASE_NOT_LISTED: SHA256SUMS has no line for "trusted_root.json"',
    );
  });

  it("fails a named file that is not there", async () => {
    const dir = broken("archive-missing");
    rmSync(join(dir, ARCHIVE));
    const result = await runAction(inputsFor(dir));
    expect(result.exitCode).toBe(1);
    expect(row(result, ARCHIVE, "checksum")?.detail).toMatch(/^IC_FILE_MISSING: .* does not exist$/);
  });
});

describe("the Action when it cannot verify at all", () => {
  it("fails with the code and the path when the directory holds no SHA256SUMS", async () => {
    const empty = mkdtempSync(join(tmpdir(), "ironclaw-action-empty-"));
    made.push(empty);
    const result = await runAction({ ...inputsFor(release), directory: empty });
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({ verified: "false" });
    const [annotation, ...rest] = errorAnnotations(result.stdout);
    expect(rest).toEqual([]);
    expect(annotation?.message).toBe(
      `IC_FILE_MISSING: the release's checksums ${join(empty, "SHA256SUMS")} does not exist; download the release's files there (SHA256SUMS, SHA256SUMS.sigstore.json, the .intoto.jsonl and the archives), or name the directory that holds them`,
    );
    expect(result.summary).toContain("<h2>✗ Release NOT verified</h2>");
    expect(result.summary).toContain("IC_FILE_MISSING: the release&#39;s checksums");
    expect(summaryRows(result.summary)).toEqual([]);
  });

  it("fails on a trusted root that is not one, before hashing anything", async () => {
    const dir = broken("bad-root");
    writeFileSync(join(dir, "trusted_root.json"), "{}");
    const result = await runAction(inputsFor(dir));
    expect(result.exitCode).toBe(1);
    expect(errorAnnotations(result.stdout)[0]?.message).toMatch(/^IC_TRUSTED_ROOT_INVALID: /);
  });

  it("refuses a malformed input and names it", async () => {
    const result = await runAction(inputsFor(release, { tag: "0.9.0" }));
    expect(result.exitCode).toBe(1);
    expect(result.outputs).toEqual({ verified: "false" });
    expect(errorAnnotations(result.stdout)[0]?.message).toMatch(
      /^input tag is "0\.9\.0"; expected a release tag vX\.Y\.Z/,
    );
  });
});
